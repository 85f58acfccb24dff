/** Control characters (C0 and DEL), which never belong in a header value. Tab is allowed when asked. */
export function isControlChar(char: string, options: { allowTab?: boolean } = {}): boolean {
  const code = char.charCodeAt(0);
  if (code === 9 && options.allowTab) return false;
  return code < 0x20 || code === 0x7f;
}

export function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isControlChar(text.charAt(i))) return true;
  return false;
}
