import { InvalidDocumentError, notFound } from "./errors.js";
import { Hash, toHash } from "./hash.js";
import type { Image, Layer, ReadOptions } from "./interfaces.js";
import { cloneDocument, copyBytes } from "./json.js";
import { type BlobSource, DescriptorLayer } from "./manifest-layer.js";
import { MediaType, sniffParsed } from "./media-type.js";
import { DEFAULT_MAX_CONFIG_BYTES, parseConfigFile, parseManifest } from "./parse-document.js";
import { SharedComputation } from "./shared-computation.js";
import type { ConfigFile, Manifest } from "./types.js";
import { readVerifiedDocument } from "./verified-read.js";

export interface CreateImageOptions {
  /** The manifest exactly as stored or served; the image's digest is its sha256. */
  rawManifest: Uint8Array;
  /**
   * The media type the manifest arrived with (a Content-Type, an index entry's `mediaType`).
   * Parameters are dropped. Default: the manifest's `mediaType`, else a sniffed one.
   */
  mediaType?: string;
  /** Where the config and layer blobs are read from. */
  source: BlobSource;
  /** Cap on the manifest. Default: 4 MiB (`DEFAULT_MAX_MANIFEST_BYTES`). */
  maxManifestBytes?: number;
  /** Cap on the config blob. Default: {@link DEFAULT_MAX_CONFIG_BYTES}. */
  maxConfigBytes?: number;
}

/** @internal Strips media-type parameters (`; charset=utf-8`) off a Content-Type. */
export function stripParameters(mediaType: string): string {
  return mediaType.split(";")[0]?.trim() ?? "";
}

/**
 * An {@link Image} over a raw manifest and a {@link BlobSource} (go-containerregistry's
 * partial.CompressedToImage): the way registries, OCI layouts and tarballs expose their images.
 * The manifest is validated now (throwing {@link InvalidDocumentError}); the config and layers
 * are read when asked, verified against their descriptors as they stream. Layer diffIDs come
 * from the config's `rootfs.diff_ids`.
 */
export function createImage(options: CreateImageOptions): Image {
  // Parsing first also refuses input that is not bytes, with a typed error.
  const manifest = parseManifest(options.rawManifest, { maxBytes: options.maxManifestBytes });
  const rawManifest = copyBytes(options.rawManifest);
  const digest = Hash.compute(rawManifest);
  const mediaType = options.mediaType
    ? stripParameters(options.mediaType)
    : (sniffParsed(manifest) ?? MediaType.OCI_MANIFEST);
  const maxConfigBytes = options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES;
  const source = options.source;

  const rawConfig = new SharedComputation((signal) =>
    readVerifiedDocument(manifest.config, () => source.blob(manifest.config, { signal }), {
      maxBytes: maxConfigBytes,
      document: "config",
      operation: "read config",
      signal,
    }),
  );
  const config = new SharedComputation(async (signal) =>
    parseConfigFile(await rawConfig.get(signal), { maxBytes: maxConfigBytes }),
  );
  const diffIDAt = async (index: number, signal: AbortSignal | undefined): Promise<Hash> => {
    const diffIDs = (await config.get(signal)).rootfs?.diff_ids ?? [];
    const diffID = diffIDs[index];
    if (!diffID) {
      throw new InvalidDocumentError(
        `config: rootfs.diff_ids[${index}]: missing; the manifest lists ${manifest.layers.length} layers but the config has ${diffIDs.length} diff IDs`,
        {
          code: "HOIST_OCI_INVALID_DOCUMENT",
          document: "config",
          problems: [{ path: `rootfs.diff_ids[${index}]`, message: "missing" }],
        },
      );
    }
    return diffID;
  };
  const layers: Layer[] = manifest.layers.map(
    (descriptor, index) =>
      new DescriptorLayer({
        descriptor,
        source,
        diffID: (signal) => diffIDAt(index, signal),
        operation: "read layer",
      }),
  );

  return {
    mediaType: async () => mediaType,
    size: async () => rawManifest.byteLength,
    digest: async () => digest,
    rawManifest: async () => copyBytes(rawManifest),
    manifest: async (): Promise<Manifest> => cloneDocument(manifest),
    rawConfigFile: async (readOptions: ReadOptions = {}) =>
      copyBytes(await rawConfig.get(readOptions.signal)),
    configFile: async (readOptions: ReadOptions = {}): Promise<ConfigFile> =>
      cloneDocument(await config.get(readOptions.signal)),
    configName: async () => manifest.config.digest,
    layers: async () => [...layers],
    layerByDigest: async (wanted) => {
      const hash = toHash(wanted);
      const index = manifest.layers.findIndex((descriptor) => descriptor.digest.equals(hash));
      const layer = layers[index];
      if (!layer) throw notFound(`no layer with digest ${hash} in image ${digest}`, "find layer");
      return layer;
    },
    layerByDiffID: async (wanted, readOptions: ReadOptions = {}) => {
      const hash = toHash(wanted);
      const diffIDs = (await config.get(readOptions.signal)).rootfs?.diff_ids ?? [];
      const index = diffIDs.findIndex((diffID) => diffID.equals(hash));
      const layer = layers[index];
      if (!layer) throw notFound(`no layer with diffID ${hash} in image ${digest}`, "find layer");
      return layer;
    },
  };
}
