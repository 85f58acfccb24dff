/**
 * Whether `text` nests arrays and objects deeper than `limit`, brackets inside strings not
 * counting: the depth at which it went past the limit, or undefined. Safe on any input.
 *
 * Most documents have fewer opening brackets in all than the limit, which `indexOf` counts
 * natively; only the others are read one character at a time. A CLI parses its few manifests
 * long before V8 would optimise that loop, so the count saves ~1 ms per manifest, and a long
 * document, where the loop does get optimised, costs what it did.
 */
export function depthPastLimit(text: string, limit: number): number | undefined {
  const opening = occurrences(text, "[", limit + 1) + occurrences(text, "{", limit + 1);
  if (opening <= limit) return undefined;
  const deepest = deepestNesting(text, limit);
  return deepest > limit ? deepest : undefined;
}

/** How often `character` occurs in `text`, counting no further than `most`. */
function occurrences(text: string, character: string, most: number): number {
  let count = 0;
  for (
    let at = text.indexOf(character);
    at !== -1 && count < most;
    at = text.indexOf(character, at + 1)
  ) {
    count++;
  }
  return count;
}

/** Bracket depth outside strings, one character at a time; stops once past `limit`. */
function deepestNesting(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c)
        index++; // skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
