import type { Readable } from "node:stream";
import type { Hash } from "./hash.js";
import type { ConfigFile, Descriptor, IndexManifest, Manifest } from "./types.js";

// The three shapes everything else in hoist reads and writes (go-containerregistry's v1.Layer,
// v1.Image and v1.ImageIndex). Every method is async and may do I/O (a remote image fetches on
// demand), so each takes an AbortSignal. Implementations are lazy: nothing is read before asked.

/** Options of every method that may do I/O. */
export interface ReadOptions {
  signal?: AbortSignal;
}

/** What one full pass over a layer's bytes yields. */
export interface LayerDigests {
  /** Digest of the compressed blob. */
  digest: Hash;
  /** sha256 of the uncompressed tar. */
  diffID: Hash;
  /** Byte length of the compressed blob. */
  size: number;
  /** Byte length of the uncompressed tar. */
  uncompressedSize: number;
}

/** One layer: a blob as stored in a registry (compressed) and the tar it holds (uncompressed). */
export interface Layer {
  /** Digest of the compressed blob: what manifests and registries name it by. */
  digest(options?: ReadOptions): Promise<Hash>;
  /** sha256 of the uncompressed tar: what the config's `rootfs.diff_ids` lists. */
  diffID(options?: ReadOptions): Promise<Hash>;
  /** Byte length of the compressed blob. */
  size(options?: ReadOptions): Promise<number>;
  mediaType(options?: ReadOptions): Promise<string>;
  /** The blob's bytes as stored. Each call returns a new stream. */
  compressed(options?: ReadOptions): Promise<Readable>;
  /** The layer tar, decompressed. Each call returns a new stream. */
  uncompressed(options?: ReadOptions): Promise<Readable>;
  /**
   * Optional: the full descriptor (with urls, annotations) when the layer came from a manifest.
   * Writers prefer it to rebuilding one from digest, size and media type.
   */
  descriptor?(options?: ReadOptions): Promise<Descriptor>;
}

/** An image: a manifest, its config, and its layers. Raw bytes are the source of truth. */
export interface Image {
  /** The manifest's media type (its `mediaType`, a sniffed one, or the registry's Content-Type). */
  mediaType(options?: ReadOptions): Promise<string>;
  /** Byte length of the raw manifest. */
  size(options?: ReadOptions): Promise<number>;
  /** sha256 of the raw manifest bytes, never of a re-serialisation. */
  digest(options?: ReadOptions): Promise<Hash>;
  /** The manifest exactly as stored or served. */
  rawManifest(options?: ReadOptions): Promise<Uint8Array>;
  /** The parsed manifest; a fresh object each call. */
  manifest(options?: ReadOptions): Promise<Manifest>;
  /** The config blob exactly as stored. */
  rawConfigFile(options?: ReadOptions): Promise<Uint8Array>;
  /** The parsed config; a fresh object each call. */
  configFile(options?: ReadOptions): Promise<ConfigFile>;
  /** The config blob's digest (what Docker calls the image ID). */
  configName(options?: ReadOptions): Promise<Hash>;
  /** Layers, base first. */
  layers(options?: ReadOptions): Promise<Layer[]>;
  /** The layer whose compressed digest is `digest`; `HOIST_OCI_NOT_FOUND` otherwise. */
  layerByDigest(digest: Hash | string, options?: ReadOptions): Promise<Layer>;
  /** The layer whose uncompressed digest is `diffID`; `HOIST_OCI_NOT_FOUND` otherwise. */
  layerByDiffID(diffID: Hash | string, options?: ReadOptions): Promise<Layer>;
}

/** An index (or Docker manifest list): descriptors of images, nested indexes, or blobs. */
export interface ImageIndex {
  mediaType(options?: ReadOptions): Promise<string>;
  /** Byte length of the raw index. */
  size(options?: ReadOptions): Promise<number>;
  /** sha256 of the raw index bytes. */
  digest(options?: ReadOptions): Promise<Hash>;
  rawManifest(options?: ReadOptions): Promise<Uint8Array>;
  /** The parsed index; a fresh object each call. */
  indexManifest(options?: ReadOptions): Promise<IndexManifest>;
  /** The child image with that digest. `HOIST_OCI_UNEXPECTED_MEDIA_TYPE` if it is an index. */
  image(digest: Hash | string, options?: ReadOptions): Promise<Image>;
  /** The child index with that digest. `HOIST_OCI_UNEXPECTED_MEDIA_TYPE` if it is an image. */
  imageIndex(digest: Hash | string, options?: ReadOptions): Promise<ImageIndex>;
  /** A child that is neither image nor index (indexes may point at plain blobs), as a layer. */
  blob(digest: Hash | string, options?: ReadOptions): Promise<Layer>;
}
