// A minimal ustar writer for the one-file tars of random layers. hoist's tarball and layout
// packages read and write real archives with tar-stream; this package only ever writes a
// regular file into a fresh archive, which is one 512-byte header, the data padded to 512, and
// two zero blocks.

const BLOCK = 512;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, Math.min(length, Buffer.byteLength(value)), "utf8");
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

/** @internal One regular file in a fresh tar archive: mode 0644, owner 0:0, mtime 0. */
export function tarWithFile(name: string, content: Uint8Array): Buffer {
  if (Buffer.byteLength(name) > 100)
    throw new Error("tar entry names are limited to 100 bytes here");
  const header = Buffer.alloc(BLOCK);
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, content.byteLength);
  writeOctal(header, 136, 12, 0);
  header.fill(" ", 148, 156); // the checksum is computed with its own field as spaces
  header.write("0", 156, "ascii");
  writeString(header, 257, 6, "ustar\0");
  writeString(header, 263, 2, "00");
  let checksum = 0;
  for (const byte of header) checksum += byte;
  writeString(header, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `);
  const padding = (BLOCK - (content.byteLength % BLOCK)) % BLOCK;
  return Buffer.concat([header, content, Buffer.alloc(padding), Buffer.alloc(BLOCK * 2)]);
}
