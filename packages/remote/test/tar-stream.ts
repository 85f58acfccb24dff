import { createCipheriv } from "node:crypto";
import { Readable } from "node:stream";

/**
 * A tar stream holding one file of `size` pseudo-random bytes (AES-CTR of zeros: fast and the
 * same for the same seed), generated as it is read: nothing is held but the current chunk.
 */
export function tarStream(size: number, seed = 1): Readable {
  const header = Buffer.alloc(512);
  header.write("data.bin", 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${size.toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const padding = (512 - (size % 512)) % 512;
  const key = Buffer.alloc(16);
  key.writeUInt32LE(seed >>> 0);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(64 * 1024);
  async function* generate(): AsyncGenerator<Buffer> {
    yield header;
    let left = size;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      yield cipher.update(zeros.subarray(0, n));
      left -= n;
    }
    yield Buffer.alloc(padding + 1024);
  }
  return Readable.from(generate(), { objectMode: false });
}
