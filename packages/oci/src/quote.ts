// Untrusted strings end up in error messages; quoting escapes control characters and the cap
// keeps a hostile multi-megabyte value from turning into a multi-megabyte message.
const MAX_QUOTED = 120;

/** Quotes a value for an error message: JSON string escaping, long values shortened. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  const shown = text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
  return JSON.stringify(shown);
}
