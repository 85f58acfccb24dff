export const RESULTS_START = "<!-- bench:results:start -->";
export const RESULTS_END = "<!-- bench:results:end -->";

const SKELETON = `# Benchmarks

\`pnpm bench\` runs hoist and skopeo side by side; this page holds the latest results.

${RESULTS_START}
${RESULTS_END}
`;

/**
 * Replaces the generated part of BENCHMARKS.md (between the two markers) and keeps the
 * hand-written rest: the notes on what was tried for each missed target live outside it.
 */
export function updateBenchmarksDocument(current: string | undefined, generated: string): string {
  const document = current ?? SKELETON;
  const start = document.indexOf(RESULTS_START);
  const end = document.indexOf(RESULTS_END);
  if (start < 0 || end < start)
    throw new Error(`BENCHMARKS.md has no ${RESULTS_START} … ${RESULTS_END} section to replace`);
  return `${document.slice(0, start + RESULTS_START.length)}\n\n${generated.trim()}\n\n${document.slice(end)}`;
}
