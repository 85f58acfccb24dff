import type { Reference } from "@hoist/name";
import { isImage, isIndex, isSchema1 } from "@hoist/oci";
import { mapLimit } from "./limiter.js";
import type { RemoteOptions, ResolvedOptions } from "./options.js";
import type { RemotePuller } from "./puller.js";
import type { BlobJob } from "./upload.js";
import type { Pushable, PushEntry } from "./write.js";

// crane's copy: whatever the source names, pushed to the destination with every digest kept.
// Blobs stream from one registry to the other, or are mounted within one.

/**
 * What pushing `source` to `destination` takes: an index (or, with a platform, its one image),
 * an image, a schema 1 manifest with its blobs, or any other manifest as it is.
 */
export async function copyEntry(
  puller: RemotePuller,
  source: Reference,
  destination: Reference,
  options: ResolvedOptions,
  call: RemoteOptions | undefined,
): Promise<PushEntry> {
  const descriptor = await puller.get(source, call);
  const mediaType = descriptor.descriptor.mediaType;
  let item: Pushable = descriptor;
  let blobs: BlobJob[] | undefined;
  if (isIndex(mediaType)) {
    item = options.platform
      ? await descriptor.image({ platform: options.platform })
      : await descriptor.imageIndex();
  } else if (isImage(mediaType)) {
    item = await descriptor.image();
  } else if (isSchema1(mediaType)) {
    const layers = descriptor.schema1().layers;
    const distinct = [...new Map(layers.map((digest) => [digest.toString(), digest])).values()];
    blobs = await mapLimit(distinct, options.jobs, async (digest) => {
      const layer = await puller.layer(source.repository.digest(digest.toString()), call);
      return { layer, digest, size: await layer.size(), origin: source.repository };
    });
  }
  // Anything else (an artifact type hoist does not model) is copied as the manifest alone.
  return { reference: destination, item, ...(blobs ? { blobs } : {}) };
}
