// Small helpers for error messages: quoting user input safely and naming characters.

const MAX_QUOTED = 200;

// Characters JSON.stringify leaves as they are but that would be invisible or confusing in a
// message: DEL, the C1 controls, zero-width and bidirectional formatting, line separators.
const INVISIBLE = /[\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g;

function escapeInvisible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** JSON-quotes `s` so that control and invisible characters show as escapes; shortens long input. */
export function quote(s: string): string {
  const short = s.length <= MAX_QUOTED ? s : s.slice(0, MAX_QUOTED);
  const quoted = JSON.stringify(short).replace(INVISIBLE, escapeInvisible);
  if (short === s) return quoted;
  return `${quoted.slice(0, -1)}…" (${s.length} characters)`;
}

/** The whole character (code point) starting at `index`, quoted. */
export function quoteCharAt(s: string, index: number): string {
  const cp = s.codePointAt(index) ?? 0;
  return quote(String.fromCodePoint(cp));
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
