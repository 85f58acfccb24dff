// Small helpers for error messages: quoting user input safely and naming characters.

const MAX_QUOTED = 200;

/** JSON-quotes `s` (so control characters show as escapes), shortening very long input. */
export function quote(s: string): string {
  if (s.length <= MAX_QUOTED) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, MAX_QUOTED)).slice(0, -1)}…" (${s.length} characters)`;
}

/** The whole character (code point) starting at `index`, quoted. */
export function quoteCharAt(s: string, index: number): string {
  const cp = s.codePointAt(index) ?? 0;
  return JSON.stringify(String.fromCodePoint(cp));
}

/**
 * Length in Unicode code points, as go-containerregistry counts runes. Only differs from
 * `.length` for astral characters, which are never valid anyway; it matters for which of
 * "too long" and "bad character" a message reports.
 */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
