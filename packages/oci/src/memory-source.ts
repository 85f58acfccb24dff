import { bytesStream } from "./bytes-stream.js";
import { notFound } from "./errors.js";
import { Hash } from "./hash.js";
import type { BlobSource } from "./manifest-layer.js";

/** @internal A BlobSource over blobs held in memory, looked up by their sha256. */
export function memoryBlobSource(blobs: Iterable<Uint8Array>): BlobSource {
  const byDigest = new Map<string, Uint8Array>();
  for (const blob of blobs) byDigest.set(Hash.compute(blob).toString(), blob);
  return {
    blob: async (descriptor) => {
      const bytes = byDigest.get(descriptor.digest.toString());
      if (!bytes) throw notFound(`no blob ${descriptor.digest} in memory`, "read blob");
      return bytesStream(bytes);
    },
  };
}
