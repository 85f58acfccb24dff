// Finds the next character that can change the depth: a bracket or the start of a string.
const STRUCTURE = /["[\]{}]/g;

/**
 * How deeply `text` nests arrays and objects, counting brackets outside strings; stops counting
 * once it passes `limit`. Safe on any input, and much cheaper than a parse: it jumps from one
 * bracket or quote to the next with the regular-expression engine and over whole strings with
 * `indexOf`, instead of looking at every character in JavaScript (a CLI parses its few manifests
 * long before V8 would optimise such a loop).
 */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  STRUCTURE.lastIndex = 0;
  for (let match = STRUCTURE.exec(text); match !== null; match = STRUCTURE.exec(text)) {
    const code = text.charCodeAt(match.index);
    if (code === 0x22) {
      const end = closingQuote(text, match.index);
      if (end === -1) break;
      STRUCTURE.lastIndex = end + 1;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) break;
      }
    } else {
      depth--;
    }
  }
  STRUCTURE.lastIndex = 0;
  return deepest;
}

/** The quote that ends the string opened at `open`: the first not escaped by a backslash. */
function closingQuote(text: string, open: number): number {
  let quote = open;
  for (;;) {
    quote = text.indexOf('"', quote + 1);
    if (quote === -1) return -1;
    // Backslashes pair up from the left, so an odd run right before the quote escapes it.
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
}
