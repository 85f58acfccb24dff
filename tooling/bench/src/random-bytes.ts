import { createCipheriv, createHash } from "node:crypto";

const CHUNK = 1024 * 1024;

/**
 * Deterministic, incompressible bytes: the AES-128-CTR keystream under a key derived from
 * `seed`. The same seed gives the same bytes on every machine and Node version, and AES-NI
 * makes it far faster than a JavaScript generator (gigabytes of layer data are generated).
 * Yields chunks of at most 1 MiB, so memory use does not depend on `length`.
 */
export async function* randomBytes(seed: string, length: number): AsyncGenerator<Buffer> {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  let left = length;
  while (left > 0) {
    const size = Math.min(CHUNK, left);
    yield cipher.update(size === CHUNK ? zeros : zeros.subarray(0, size));
    left -= size;
  }
}
