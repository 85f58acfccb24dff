import { addAbortSignal, type Duplex, pipeline, type Readable } from "node:stream";
import {
  type Compression,
  type ConfigFile,
  createGzipStream,
  type Descriptor,
  Hash,
  hashStream,
  type Image,
  type Layer,
  type Manifest,
  MediaType,
  OciError,
  parseConfigFile,
  parseDescriptor,
  parseManifest,
  type ReadOptions,
  SharedComputation,
  VerifyingStream,
} from "@hoist/oci";
import type { ArchiveFile } from "./archive-file.js";
import { quote, TarballError } from "./errors.js";
import { gunzipStage, zstdUnsupported } from "./gzip.js";
import type { EntryLocation } from "./tar-index.js";

/** How layers stored uncompressed in a tarball are presented. */
export type UncompressedLayers = "gzip" | "keep";

/** @internal What a layer's bytes look like where they are stored (read by export). */
export const STORED_COMPRESSION = Symbol.for("@hoist/tarball.storedCompression");

const OPERATION = "read tarball layer";

const UNCOMPRESSED_TYPES = new Set<string>([
  MediaType.DOCKER_LAYER_UNCOMPRESSED,
  MediaType.OCI_LAYER,
]);

function toHash(value: Hash | string): Hash {
  return typeof value === "string" ? Hash.parse(value) : value;
}

// The Image interface promises @hoist/oci's not-found code, whoever implements it.
function notFound(message: string): OciError {
  return new OciError(message, { code: "HOIST_OCI_NOT_FOUND", operation: "find layer" });
}

// Stages joined into one stream whose errors, and the signal's abort, reach its consumer.
function chain(stages: [Readable, ...Duplex[]], signal: AbortSignal | undefined): Readable {
  const stream = pipeline(stages, () => {}) as unknown as Readable;
  return signal ? addAbortSignal(signal, stream) : stream;
}

/** @internal How one layer of a tarball image is laid out. */
export interface TarballLayerInit {
  archive: ArchiveFile;
  location: EntryLocation;
  diffID: Hash;
  /** The compression of the stored file, by its magic number. */
  stored: Compression;
  /** The `LayerSources` descriptor for this layer, if manifest.json has one. */
  source: Descriptor | undefined;
  uncompressedLayers: UncompressedLayers;
  gzipLevel: number;
}

/**
 * @internal A layer stored in a tarball. The config's diffID is the anchor: uncompressed reads are
 * verified against it in one pass. The compressed blob is the stored file when it is compressed
 * (digest from hashing it), the stored tar itself with `keep`, or a deterministic gzip of it
 * (digest from gzipping it once) with `gzip`. Digests are computed on first need and kept.
 */
export class TarballLayer implements Layer {
  readonly #init: TarballLayerInit;
  readonly #subject: string;
  /** A LayerSources descriptor that is the layer's identity (foreign layers). */
  readonly #foreign: Descriptor | undefined;
  readonly #blob: SharedComputation<{ digest: Hash; size: number }>;
  readonly [STORED_COMPRESSION]: Compression;

  constructor(init: TarballLayerInit) {
    this.#init = init;
    this.#subject = `layer ${quote(init.location.name)}`;
    this[STORED_COMPRESSION] = init.stored;
    // Docker 25 lists every layer in LayerSources with an uncompressed type; those descriptors
    // describe the stored tar, not a blob to present (go-containerregistry skips them too).
    this.#foreign =
      init.source && !UNCOMPRESSED_TYPES.has(init.source.mediaType) ? init.source : undefined;
    this.#blob = new SharedComputation(async (signal) => {
      const foreign = this.#foreign;
      if (foreign) return { digest: foreign.digest, size: foreign.size };
      const { stored, uncompressedLayers, location, diffID } = this.#init;
      if (stored === "none" && uncompressedLayers === "keep") {
        return { digest: diffID, size: location.size };
      }
      const { hash, size } = await hashStream(await this.#compressedSource(signal), { signal });
      return { digest: hash, size };
    });
  }

  // The blob's bytes before verification against the (possibly not yet known) digest.
  async #compressedSource(signal: AbortSignal | undefined): Promise<Readable> {
    const { archive, location, stored, diffID, gzipLevel } = this.#init;
    const file = archive.stream(location, OPERATION, signal);
    if (stored !== "none") return file;
    const checked = new VerifyingStream({
      digest: diffID,
      size: location.size,
      operation: OPERATION,
      subject: this.#subject,
    });
    if (this.#init.uncompressedLayers === "keep") return chain([file, checked], signal);
    return chain([file, checked, createGzipStream({ level: gzipLevel })], signal);
  }

  async digest(options: ReadOptions = {}): Promise<Hash> {
    return (await this.#blob.get(options.signal)).digest;
  }

  async diffID(): Promise<Hash> {
    return this.#init.diffID;
  }

  async size(options: ReadOptions = {}): Promise<number> {
    // Only a blob gzipped here has a size that needs a pass to learn.
    const { stored, uncompressedLayers, location } = this.#init;
    if (this.#foreign) return this.#foreign.size;
    if (stored !== "none" || uncompressedLayers === "keep") return location.size;
    return (await this.#blob.get(options.signal)).size;
  }

  async mediaType(): Promise<string> {
    if (this.#foreign) return this.#foreign.mediaType;
    const { stored, uncompressedLayers } = this.#init;
    if (stored === "zstd") return MediaType.OCI_LAYER_ZSTD;
    if (stored === "none" && uncompressedLayers === "keep") {
      return MediaType.DOCKER_LAYER_UNCOMPRESSED;
    }
    return MediaType.DOCKER_LAYER;
  }

  async descriptor(options: ReadOptions = {}): Promise<Descriptor> {
    if (this.#foreign) return parseDescriptor(JSON.stringify(this.#foreign));
    const { digest, size } = await this.#blob.get(options.signal);
    return { mediaType: await this.mediaType(), size, digest };
  }

  async compressed(options: ReadOptions = {}): Promise<Readable> {
    const signal = options.signal;
    if (this.#foreign && this.#init.stored === "none") {
      throw new TarballError(
        `${this.#subject} is a foreign layer (${this.#foreign.mediaType}): the tarball holds only its uncompressed tar, not the blob ${this.#foreign.digest}; fetch the blob from its urls, or read uncompressed()`,
        { code: "HOIST_TARBALL_FOREIGN_LAYER", operation: OPERATION },
      );
    }
    const { digest, size } = await this.#blob.get(signal);
    const verify = new VerifyingStream({
      digest,
      size,
      operation: OPERATION,
      subject: this.#subject,
    });
    return chain([await this.#compressedSource(signal), verify], signal);
  }

  async uncompressed(options: ReadOptions = {}): Promise<Readable> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const { archive, location, stored, diffID } = this.#init;
    if (stored === "zstd") throw zstdUnsupported(this.#subject, OPERATION);
    const file = archive.stream(location, OPERATION, signal);
    if (stored === "none") {
      const verify = new VerifyingStream({
        digest: diffID,
        size: location.size,
        operation: OPERATION,
        subject: this.#subject,
      });
      return chain([file, verify], signal);
    }
    // One pass: the decompressed tar is checked against the config's diffID, the anchor of
    // trust in a tarball (the compressed digest would need a pass of its own first).
    const verify = new VerifyingStream({
      digest: diffID,
      operation: OPERATION,
      subject: `${this.#subject} (uncompressed)`,
    });
    return chain([file, gunzipStage(this.#subject, OPERATION), verify], signal);
  }
}

interface BuiltManifest {
  raw: Uint8Array;
  parsed: Manifest;
  digest: Hash;
}

/**
 * @internal An image of a tarball. A `docker save` tarball has no manifest, so one is built as
 * go-containerregistry builds it: a Docker schema 2 manifest with the config and each layer's
 * descriptor. Building it needs every layer's compressed digest, so it happens only when asked
 * (the config and the layers' uncompressed tars are readable without it).
 */
export class TarballImage implements Image {
  readonly #rawConfig: Uint8Array;
  readonly #configName: Hash;
  readonly #layers: TarballLayer[];
  readonly #maxConfigBytes: number;
  readonly #manifest: SharedComputation<BuiltManifest>;

  constructor(init: { rawConfig: Uint8Array; layers: TarballLayer[]; maxConfigBytes: number }) {
    this.#rawConfig = Uint8Array.prototype.slice.call(init.rawConfig);
    this.#configName = Hash.compute(this.#rawConfig);
    this.#layers = init.layers;
    this.#maxConfigBytes = init.maxConfigBytes;
    this.#manifest = new SharedComputation(async (signal) => {
      const layers: Descriptor[] = [];
      for (const layer of this.#layers) layers.push(await layer.descriptor({ signal }));
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaType.DOCKER_MANIFEST,
        config: {
          mediaType: MediaType.DOCKER_CONFIG,
          size: this.#rawConfig.byteLength,
          digest: this.#configName,
        },
        layers,
      };
      const raw = Buffer.from(JSON.stringify(manifest), "utf8");
      return { raw, parsed: parseManifest(raw), digest: Hash.compute(raw) };
    });
  }

  async mediaType(): Promise<string> {
    return MediaType.DOCKER_MANIFEST;
  }

  async size(options: ReadOptions = {}): Promise<number> {
    return (await this.#manifest.get(options.signal)).raw.byteLength;
  }

  async digest(options: ReadOptions = {}): Promise<Hash> {
    return (await this.#manifest.get(options.signal)).digest;
  }

  async rawManifest(options: ReadOptions = {}): Promise<Uint8Array> {
    return Uint8Array.prototype.slice.call((await this.#manifest.get(options.signal)).raw);
  }

  async manifest(options: ReadOptions = {}): Promise<Manifest> {
    const { raw } = await this.#manifest.get(options.signal);
    return parseManifest(raw);
  }

  async rawConfigFile(): Promise<Uint8Array> {
    return Uint8Array.prototype.slice.call(this.#rawConfig);
  }

  async configFile(): Promise<ConfigFile> {
    // A fresh copy each call, as the Image interface promises.
    return parseConfigFile(this.#rawConfig, { maxBytes: this.#maxConfigBytes });
  }

  async configName(): Promise<Hash> {
    return this.#configName;
  }

  async layers(): Promise<Layer[]> {
    return [...this.#layers];
  }

  async layerByDigest(digest: Hash | string, options: ReadOptions = {}): Promise<Layer> {
    const wanted = toHash(digest);
    for (const layer of this.#layers) {
      if ((await layer.digest(options)).equals(wanted)) return layer;
    }
    throw notFound(`no layer with digest ${wanted} in the tarball image`);
  }

  async layerByDiffID(diffID: Hash | string): Promise<Layer> {
    const wanted = toHash(diffID);
    for (const layer of this.#layers) {
      if ((await layer.diffID()).equals(wanted)) return layer;
    }
    throw notFound(`no layer with diffID ${wanted} in the tarball image`);
  }
}
