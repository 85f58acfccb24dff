// The executable's young-generation collection, when there is one. Only src/bin.ts can reach
// V8's gc() (it turns --expose-gc on for a moment); build.mjs swaps this module in the
// executable's bundle for one that returns the function bin.ts hands over. Elsewhere (tests,
// programs that import the CLI) there is none, and nothing is collected early.

/** Runs one young-generation collection; undefined where the CLI cannot. */
export function youngCollector(): (() => void) | undefined {
  return undefined;
}
