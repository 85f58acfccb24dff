import { createImageIndex, type ImageIndex, isIndex } from "@hoist/oci";
import type { FetchedManifest, Fetcher } from "./fetcher.js";
import { blobSourceFor, unexpectedMediaType } from "./image.js";
import { trackIndex } from "./mount.js";

// go-containerregistry's index.go: a registry's index; its children are fetched when asked,
// by digest, and verified against the index's descriptors.

/** What index() resolves to, shared by Puller.index and RemoteDescriptor.imageIndex. */
export function resolveIndex(
  fetcher: Fetcher,
  fetched: FetchedManifest,
  reference: string,
  maxManifestBytes: number,
): ImageIndex {
  if (!isIndex(fetched.mediaType)) {
    throw unexpectedMediaType(reference, fetched.mediaType, "an index", "read it with image()");
  }
  const index = createImageIndex({
    rawManifest: fetched.bytes,
    mediaType: fetched.mediaType,
    source: blobSourceFor(fetcher),
    maxManifestBytes,
  });
  return trackIndex(index, fetcher.repository);
}
