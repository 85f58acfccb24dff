import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  type BlobSource,
  createImage,
  type Descriptor,
  Hash,
  type Image,
  type Layer,
  MediaType,
} from "@hoist/oci";

/** Runs `fn` and returns what it threw (failing when it does not throw). */
export async function caught<T = Error & { code?: string }>(fn: () => unknown): Promise<T> {
  try {
    await fn();
  } catch (error) {
    return error as T;
  }
  throw new Error("expected the call to throw");
}

/** A layer's compressed bytes, read through whatever verification the layer does. */
export async function blobBytes(layer: Layer): Promise<Buffer> {
  return buffer(await layer.compressed());
}

/**
 * An uncompressed tar layer of `bytes` whose stored bytes come from `open`, for tests that watch
 * or control the streams an upload opens.
 */
export function openedLayer(
  bytes: Uint8Array,
  open: (options?: { signal?: AbortSignal }) => Readable,
): Layer {
  const digest = Hash.compute(bytes);
  return {
    digest: async () => digest,
    diffID: async () => digest,
    size: async () => bytes.byteLength,
    mediaType: async () => "application/vnd.oci.image.layer.v1.tar",
    compressed: async (options) => open(options),
    uncompressed: async () => Readable.from([bytes]),
  };
}

/** A BlobSource over bytes in memory, for hand-made manifests (artifacts, foreign layers). */
export function memorySource(blobs: Iterable<Uint8Array>): BlobSource {
  const byDigest = new Map<string, Uint8Array>();
  for (const bytes of blobs) byDigest.set(Hash.compute(bytes).toString(), bytes);
  return {
    async blob(descriptor) {
      const bytes = byDigest.get(descriptor.digest.toString());
      if (!bytes) throw new Error(`no blob ${descriptor.digest}`);
      return Readable.from([bytes]);
    },
  };
}

export function describe(bytes: Uint8Array, mediaType: string): Descriptor {
  return { mediaType, size: bytes.byteLength, digest: Hash.compute(bytes) };
}

/** An OCI 1.1 artifact (empty config, one blob) that refers to `subject`. */
export function artifact(options: {
  subject: Descriptor;
  artifactType: string;
  content: string;
}): Image {
  const config = new TextEncoder().encode("{}");
  const blob = new TextEncoder().encode(options.content);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    artifactType: options.artifactType,
    config: describe(config, MediaType.OCI_EMPTY),
    layers: [describe(blob, "text/plain")],
    subject: options.subject,
    annotations: { "org.example.content": options.content },
  };
  return createImage({
    rawManifest: new TextEncoder().encode(JSON.stringify(manifest)),
    source: memorySource([config, blob]),
  });
}

/** Unique repository names, so tests sharing a registry never see each other's data. */
let counter = 0;
export function uniqueRepo(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/**
 * Asserts two byte strings are equal by length and sha256 (vitest's deep equality walks
 * buffers byte by byte, which takes seconds for a few hundred KiB).
 */
export function fingerprint(bytes: Uint8Array): string {
  return `${bytes.byteLength} bytes, ${Hash.compute(bytes)}`;
}
