// Registries deprecate repositories and announce limits with `Warning: 299 - "text"` response
// headers (RFC 7234). crane collects them over a whole command and prints each distinct text
// once, sorted, when the command ends; so does hoist.

/** The text of a `299 - "…"` warning value, or undefined for any other warning. */
export function parseWarning(value: string): string | undefined {
  if (!value.startsWith("299 - ")) return undefined;
  const start = value.indexOf('"');
  const end = value.lastIndexOf('"');
  if (start < 0 || end <= start) return undefined;
  return value.slice(start + 1, end);
}

/** Splits a combined Warning header ("299 - \"a\", 299 - \"b\"") into its values. */
export function splitWarningHeader(header: string): string[] {
  const values: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const char = header[i] as string;
    if (char === "\\" && quoted) {
      current += char + (header[i + 1] ?? "");
      i++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === "," && !quoted) {
      values.push(current.trim());
      current = "";
      continue;
    }
    current += char;
  }
  if (current.trim()) values.push(current.trim());
  return values;
}

/** Whether stderr may carry ANSI colour (crane's rule, plus NO_COLOR from no-color.org). */
export function colorAllowed(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.NO_COLOR !== undefined) return false;
  if (env.TERM === "dumb") return false;
  if (process.platform === "win32" && !env.WT_SESSION) return false;
  return true;
}

export class WarningCollector {
  readonly #texts = new Set<string>();

  /** Feeds one response's Warning header (as `Headers.get` joins them). */
  addHeader(header: string | null | undefined): void {
    if (!header) return;
    for (const value of splitWarningHeader(header)) {
      const text = parseWarning(value);
      if (text !== undefined) this.#texts.add(text);
    }
  }

  get size(): number {
    return this.#texts.size;
  }

  /** The lines printed at the end of a command: `[WARNING]: text`, sorted, each once. */
  report(options: { color: boolean }): string[] {
    const prefix = options.color ? "\u001b[1;33m[WARNING]\u001b[0m:" : "[WARNING]:";
    return [...this.#texts].sort().map((text) => `${prefix} ${text}`);
  }
}
