// IP literal recognition without regular expressions: the rules of Go's net/netip parser,
// which go-containerregistry relies on for bracketed registry hosts and RFC 1918 checks.

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Parses dotted-decimal IPv4 in `s[start, end)`: exactly four decimal fields of 0-255,
 * no empty fields and no leading zeros (Go rejects "010.0.0.1" as ambiguous octal).
 */
export function parseIPv4(s: string, start = 0, end = s.length): number[] | undefined {
  const octets: number[] = [];
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || (leadingZero && digits > 1)) return undefined;
      if (octets.length === 4) return undefined;
      octets.push(value);
      value = 0;
      digits = 0;
      continue;
    }
    if (!isDigit(c)) return undefined;
    if (digits === 0) leadingZero = c === 0x30;
    value = value * 10 + (c - 0x30);
    digits++;
    if (value > 255) return undefined;
  }
  return octets.length === 4 ? octets : undefined;
}

/**
 * True when `s` is an IPv6 address without a zone: 1-4 hex digits per group, eight groups
 * or fewer with exactly one "::" standing for at least one zero group, and an optional
 * dotted IPv4 tail that takes the place of the last two groups.
 */
export function isIPv6(s: string): boolean {
  const n = s.length;
  let pos = 0;
  let bytes = 0; // bytes of the 16 filled so far
  let ellipsis = false;
  if (n >= 2 && s.charCodeAt(0) === 0x3a && s.charCodeAt(1) === 0x3a) {
    ellipsis = true;
    pos = 2;
    if (pos === n) return true;
  }
  while (bytes < 16) {
    const groupStart = pos;
    while (pos < n && hexValue(s.charCodeAt(pos)) >= 0) {
      if (pos - groupStart >= 4) return false;
      pos++;
    }
    if (pos === groupStart) return false;
    if (pos < n && s.charCodeAt(pos) === 0x2e) {
      // An IPv4 tail must end the address and fill exactly the last four bytes
      // (or fewer, when "::" already stands for the missing groups).
      if (!ellipsis && bytes !== 12) return false;
      if (bytes + 4 > 16) return false;
      if (parseIPv4(s, groupStart, n) === undefined) return false;
      bytes += 4;
      pos = n;
      break;
    }
    bytes += 2;
    if (pos === n) break;
    if (s.charCodeAt(pos) !== 0x3a || pos + 1 === n) return false;
    pos++;
    if (s.charCodeAt(pos) === 0x3a) {
      if (ellipsis) return false;
      ellipsis = true;
      pos++;
      if (pos === n) break;
    }
  }
  if (pos !== n) return false;
  if (bytes < 16) return ellipsis;
  return !ellipsis;
}
