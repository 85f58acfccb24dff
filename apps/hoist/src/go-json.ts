// Go's encoding/json escapes <, > and & (and U+2028/U+2029) inside strings, which
// JSON.stringify does not. crane prints with Go's encoder, so output meant to match it byte
// for byte goes through here.

/** `json.NewEncoder(w).Encode(value)`: compact, HTML-escaped, newline-terminated. */
export function goJsonLine(value: unknown): string {
  return `${goJson(value)}\n`;
}

/** `json.Marshal(value)`: compact and HTML-escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => {
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}
