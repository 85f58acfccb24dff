import { createImage, stripParameters } from "./create-image.js";
import { notFound, OciError } from "./errors.js";
import { Hash, toHash } from "./hash.js";
import { hashStream } from "./hashing-stream.js";
import type { Image, ImageIndex, Layer, ReadOptions } from "./interfaces.js";
import { cloneDocument, copyBytes } from "./json.js";
import { type BlobSource, DescriptorLayer } from "./manifest-layer.js";
import { isIndex, MediaType, sniffParsed } from "./media-type.js";
import { DEFAULT_MAX_MANIFEST_BYTES, parseIndexManifest } from "./parse-document.js";
import { quote } from "./quote.js";
import { SharedComputation } from "./shared-computation.js";
import type { Descriptor, IndexManifest } from "./types.js";
import { checkDocumentSize, readVerifiedDocument, verifyBytes } from "./verified-read.js";

export interface CreateImageIndexOptions {
  /** The index exactly as stored or served; its digest is its sha256. */
  rawManifest: Uint8Array;
  /** The media type it arrived with. Default: its `mediaType`, else a sniffed one. */
  mediaType?: string;
  /** Where child manifests and blobs are read from. */
  source: BlobSource;
  /** Cap on this index and its child manifests. Default: {@link DEFAULT_MAX_MANIFEST_BYTES}. */
  maxManifestBytes?: number;
  /** Cap on configs of child images. */
  maxConfigBytes?: number;
}

/**
 * An {@link ImageIndex} over a raw index and a {@link BlobSource}. The index is validated now;
 * children are read when asked, and their bytes are verified against the index's descriptors
 * before they are parsed.
 */
export function createImageIndex(options: CreateImageIndexOptions): ImageIndex {
  const index = parseIndexManifest(options.rawManifest, { maxBytes: options.maxManifestBytes });
  const rawManifest = copyBytes(options.rawManifest);
  const digest = Hash.compute(rawManifest);
  const mediaType = options.mediaType
    ? stripParameters(options.mediaType)
    : (sniffParsed(index) ?? MediaType.OCI_INDEX);
  const source = options.source;
  const maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;

  const find = (wanted: Hash | string): Descriptor => {
    const hash = toHash(wanted);
    const descriptor = index.manifests.find((child) => child.digest.equals(hash));
    if (!descriptor)
      throw notFound(`no child with digest ${hash} in index ${digest}`, "find index child");
    return descriptor;
  };
  const childBytes = async (descriptor: Descriptor, signal: AbortSignal | undefined) => {
    if (source.manifest && descriptor.data === undefined) {
      checkDocumentSize(descriptor, maxManifestBytes, "manifest");
      const bytes = await source.manifest(descriptor, { signal });
      verifyBytes(bytes, descriptor, "read index child");
      return bytes;
    }
    return readVerifiedDocument(descriptor, () => source.blob(descriptor, { signal }), {
      maxBytes: maxManifestBytes,
      document: "manifest",
      operation: "read index child",
      signal,
    });
  };

  return {
    mediaType: async () => mediaType,
    size: async () => rawManifest.byteLength,
    digest: async () => digest,
    rawManifest: async () => copyBytes(rawManifest),
    indexManifest: async (): Promise<IndexManifest> => cloneDocument(index),
    image: async (wanted, readOptions: ReadOptions = {}): Promise<Image> => {
      const descriptor = find(wanted);
      if (isIndex(descriptor.mediaType)) throw unexpected(descriptor, "an index", "imageIndex()");
      return createImage({
        rawManifest: await childBytes(descriptor, readOptions.signal),
        mediaType: descriptor.mediaType,
        source,
        maxManifestBytes,
        maxConfigBytes: options.maxConfigBytes,
      });
    },
    imageIndex: async (wanted, readOptions: ReadOptions = {}): Promise<ImageIndex> => {
      const descriptor = find(wanted);
      if (!isIndex(descriptor.mediaType))
        throw unexpected(descriptor, "not an index", "image() or blob()");
      return createImageIndex({
        ...options,
        rawManifest: await childBytes(descriptor, readOptions.signal),
        mediaType: descriptor.mediaType,
      });
    },
    blob: async (wanted): Promise<Layer> => blobLayer(find(wanted), source),
  };
}

function unexpected(descriptor: Descriptor, what: string, instead: string): OciError {
  return new OciError(
    `index child ${descriptor.digest} is ${what} (media type ${quote(descriptor.mediaType)}); call ${instead} instead`,
    { code: "HOIST_OCI_UNEXPECTED_MEDIA_TYPE", operation: "read index child" },
  );
}

/** @internal A non-manifest index child as a layer; its diffID is computed by reading it. */
export function blobLayer(descriptor: Descriptor, source: BlobSource): Layer {
  let layer: DescriptorLayer | undefined;
  const diffID = new SharedComputation(async (signal) => {
    const stream = await (layer as DescriptorLayer).uncompressed({ signal });
    return (await hashStream(stream, { signal })).hash;
  });
  layer = new DescriptorLayer({
    descriptor,
    source,
    diffID: (signal) => diffID.get(signal),
    operation: "read index blob",
  });
  return layer;
}
