/** "85 ms" under a second, "1.23 s" from a second on. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A min–max range in the unit the median is shown in, so the two read together. */
export function formatRange(min: number, max: number, medianMs: number): string {
  if (medianMs < 1000) return `${Math.round(min)}–${Math.round(max)} ms`;
  return `${(min / 1000).toFixed(2)}–${(max / 1000).toFixed(2)} s`;
}

export function formatMiB(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

/** Decimal megabytes per second, as network figures are usually quoted. */
export function formatRate(bytes: number, ms: number): string {
  return `${Math.round(bytes / 1e6 / (ms / 1000))}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export type Align = "left" | "right";

/**
 * A Markdown table with its columns padded, so the same text reads well in a terminal and
 * renders as a table on GitHub.
 */
export function markdownTable(header: string[], rows: string[][], align: Align[] = []): string {
  const escapeCell = (cell: string) => cell.replace(/\|/g, "\\|");
  const cells = [header, ...rows].map((row) => row.map(escapeCell));
  const widths = header.map((_, column) =>
    Math.max(3, ...cells.map((row) => [...(row[column] ?? "")].length)),
  );
  const pad = (cell: string, column: number) => {
    const fill = " ".repeat((widths[column] as number) - [...cell].length);
    return align[column] === "right" ? fill + cell : cell + fill;
  };
  const line = (row: string[]) => `| ${header.map((_, c) => pad(row[c] ?? "", c)).join(" | ")} |`;
  const rule = `|${widths.map((width, c) => (align[c] === "right" ? `${"-".repeat(width + 1)}:` : `${"-".repeat(width + 2)}`)).join("|")}|`;
  return [line(cells[0] as string[]), rule, ...cells.slice(1).map(line)].join("\n");
}
