export interface ChartBar {
  label: string;
  /** hoist/skopeo ratio of medians. */
  ratio: number;
  /** The ratio the target allows, if there is one. */
  limit?: number;
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const COLORS = { met: "#2e7d32", missed: "#c62828", none: "#78909c" } as const;

/**
 * A horizontal bar chart of hoist/skopeo ratios as standalone SVG (no dependency, renders on
 * GitHub): shorter is faster, the dashed line is parity with skopeo, a black tick is the
 * target; green bars meet their target, red ones miss it, grey ones have none.
 */
export function renderRatioChart(bars: readonly ChartBar[], title: string): string {
  const labelWidth = 130;
  const plotWidth = 460;
  const rowHeight = 20;
  const top = 44;
  const bottom = 30;
  const width = labelWidth + plotWidth + 60;
  const height = top + bars.length * rowHeight + bottom;
  const scaleMax = Math.max(
    1.5,
    ...bars.map((bar) => bar.ratio),
    ...bars.map((bar) => bar.limit ?? 0),
  );
  const x = (value: number) => labelWidth + (value / scaleMax) * plotWidth;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12" role="img">`,
    // The alternative text a screen reader (and biome's accessibility lint) asks of an image.
    `<title>${escapeXml(title)}: each scenario's time as a fraction of skopeo's, against its target</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${width / 2}" y="34" text-anchor="middle" fill="#555555">time relative to skopeo (shorter is faster); tick = target</text>`,
  ];
  for (let step = 0; step <= scaleMax + 1e-9; step += 0.25) {
    const gx = x(step).toFixed(1);
    parts.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + bars.length * rowHeight}" stroke="#e0e0e0"/>`,
      `<text x="${gx}" y="${height - 10}" text-anchor="middle" fill="#555555">${step.toFixed(2)}</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const y = top + index * rowHeight;
    const state = bar.limit === undefined ? "none" : bar.ratio <= bar.limit ? "met" : "missed";
    const barEnd = x(bar.ratio);
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${(barEnd - labelWidth).toFixed(1)}" height="${rowHeight - 6}" fill="${COLORS[state]}"/>`,
      `<text x="${(barEnd + 4).toFixed(1)}" y="${y + 14}">${bar.ratio.toFixed(2)}</text>`,
    );
    if (bar.limit !== undefined) {
      const tx = x(bar.limit).toFixed(1);
      parts.push(
        `<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + rowHeight - 1}" stroke="#000000" stroke-width="2"/>`,
      );
    }
  });
  const parity = x(1).toFixed(1);
  parts.push(
    `<line x1="${parity}" y1="${top - 4}" x2="${parity}" y2="${top + bars.length * rowHeight}" stroke="#333333" stroke-dasharray="4 3"/>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
}
