import { createHash, type Hash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

export interface Platform {
  os: string;
  architecture: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export const MEDIA_TYPES = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

/** Feeds every chunk to a hash (and counts it) on its way through. */
function tap(hash: Hash, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      callback(null, chunk);
    },
  });
}

export function blobPath(layoutDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return join(layoutDir, "blobs", algorithm as string, hex as string);
}

export interface WrittenLayer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar, for the config's rootfs.diff_ids. */
  diffId: string;
}

/**
 * Gzips a tar stream into the layout's blob store, hashing both sides as it streams, so no
 * layer is ever held in memory. Level 0 keeps random data's generation fast: zlib stores
 * incompressible input in stored blocks at every level, so the blob looks the same to readers.
 */
export async function writeLayer(
  layoutDir: string,
  tar: Readable | AsyncIterable<Buffer>,
  options: { gzipLevel: number; signal?: AbortSignal },
): Promise<WrittenLayer> {
  const dir = join(layoutDir, "blobs", "sha256");
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `.partial-${randomUUID()}`);
  const diffHash = createHash("sha256");
  const blobHash = createHash("sha256");
  const uncompressed = { bytes: 0 };
  const compressed = { bytes: 0 };
  try {
    await pipeline(
      tar,
      tap(diffHash, uncompressed),
      createGzip({ level: options.gzipLevel, chunkSize: 256 * 1024 }),
      tap(blobHash, compressed),
      createWriteStream(temporary),
      { signal: options.signal },
    );
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const digest = `sha256:${blobHash.digest("hex")}`;
  await rename(temporary, blobPath(layoutDir, digest));
  return {
    descriptor: { mediaType: MEDIA_TYPES.layer, digest, size: compressed.bytes },
    diffId: `sha256:${diffHash.digest("hex")}`,
  };
}

/** Writes a JSON document (config, manifest or index) as a blob; returns its descriptor. */
export async function writeJsonBlob(
  layoutDir: string,
  value: unknown,
  mediaType: string,
): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value), "utf8");
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  await mkdir(join(layoutDir, "blobs", "sha256"), { recursive: true });
  await writeFile(blobPath(layoutDir, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

/**
 * Writes `oci-layout` and an `index.json` with the one entry `root`, tagged `latest`: a
 * layout with exactly one entry is what `skopeo copy oci:DIR` and `crane push DIR` accept
 * without naming an image inside it.
 */
export async function writeLayoutIndex(layoutDir: string, root: Descriptor): Promise<void> {
  await writeFile(join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const entry = { ...root, annotations: { "org.opencontainers.image.ref.name": "latest" } };
  await writeFile(
    join(layoutDir, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [entry] }),
  );
}
