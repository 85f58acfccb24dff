const BLOCK = 512;

function writeString(header: Buffer, offset: number, length: number, value: string) {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > length) throw new RangeError(`tar field too long: ${JSON.stringify(value)}`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number) {
  // length - 1 octal digits and a NUL, as ustar readers expect.
  const digits = value.toString(8).padStart(length - 1, "0");
  if (digits.length > length - 1) throw new RangeError(`tar number too large: ${value}`);
  writeString(header, offset, length, `${digits}\0`);
}

/**
 * The 512-byte ustar header of one regular file (mode 0644, owner 0, mtime 0), so a layer
 * holding one file of random data is a real tar that any tool can unpack and hash.
 */
export function tarFileHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0);
  header.fill(" ", 148, 156);
  writeString(header, 156, 1, "0");
  writeString(header, 257, 6, "ustar\0");
  writeString(header, 263, 2, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

/** Zero bytes that pad `size` bytes of file data to a whole tar block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The two zero blocks that end a tar archive. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}
