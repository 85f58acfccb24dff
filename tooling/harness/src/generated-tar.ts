import { createCipheriv } from "node:crypto";
import { Readable } from "node:stream";

const BLOCK = 1024 * 1024;

export interface GeneratedTarOptions {
  /** Same seed, same bytes. Default 1. */
  seed?: number;
  /** Bytes per chunk the stream yields. Default 64 KiB. */
  chunkSize?: number;
}

/**
 * A tar stream holding one file (`data.bin`) of `size` pseudo-random bytes, made as it is read:
 * nothing is held but a 1 MiB block of AES-CTR output (from `seed`) that the file repeats,
 * handed out as views, so a 1 GiB layer costs 1 MiB and allocates nothing per chunk. For tests
 * and benchmarks that need big layers that are never in memory.
 */
export function generatedTar(size: number, options: GeneratedTarOptions = {}): Readable {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`size must be a whole number of bytes, got ${size}`);
  }
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const header = Buffer.alloc(512);
  header.write("data.bin", 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148); // the checksum is computed with its own field as spaces
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const key = Buffer.alloc(16);
  key.writeUInt32LE((options.seed ?? 1) >>> 0);
  const block = createCipheriv("aes-128-ctr", key, Buffer.alloc(16)).update(Buffer.alloc(BLOCK));
  async function* generate(): AsyncGenerator<Buffer> {
    yield header;
    for (let at = 0; at < size; ) {
      const start = at % BLOCK;
      const length = Math.min(chunkSize, size - at, BLOCK - start);
      yield block.subarray(start, start + length);
      at += length;
    }
    // Padding to a 512-byte record, then the two zero records that end an archive.
    yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
  }
  return Readable.from(generate(), { objectMode: false });
}
