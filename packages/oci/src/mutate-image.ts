import { notFound, OciError } from "./errors.js";
import { Hash, toHash } from "./hash.js";
import type { Image, Layer, ReadOptions } from "./interfaces.js";
import { cloneDocument, copyBytes, encodeJson } from "./json.js";
import { isValidMediaType, MediaType, sniffParsed } from "./media-type.js";
import { parseConfigFile, parseManifest } from "./parse-document.js";
import { quote } from "./quote.js";
import { SharedComputation } from "./shared-computation.js";
import type { ConfigFile, ContainerConfig, Descriptor, History, Manifest } from "./types.js";

/** A layer to append, with what goes into the manifest and config alongside it. */
export interface LayerAddendum {
  layer: Layer;
  /** The config history entry for the layer. Default: `{}`. */
  history?: History;
  /** Annotations on the layer's manifest descriptor. */
  annotations?: Record<string, string>;
  /** Overrides the layer's own media type in the manifest. */
  mediaType?: string;
  /** Download locations for foreign layers. */
  urls?: string[];
}

/** @internal The edits one derived image applies to its base. */
export interface ImageEdit {
  layers?: readonly LayerAddendum[];
  config?: (config: ConfigFile) => ConfigFile;
  manifest?: (manifest: Manifest) => Manifest;
}

interface Computed {
  rawManifest: Uint8Array;
  manifest: Manifest;
  digest: Hash;
  /** Present when an edit changed the config; otherwise the base's config is the config. */
  config?: { raw: Uint8Array; parsed: ConfigFile };
}

// An image made from another by edits (go-containerregistry's mutate.image). Nothing is computed
// until asked. Appended stream layers make manifest and config unknowable until the layers have
// been read; asking earlier fails with HOIST_OCI_NOT_COMPUTED and can be retried later, while
// layers() works from the start so a writer can upload the layers first.
/** @internal */
export class DerivedImage implements Image {
  readonly #base: Image;
  readonly #edit: ImageEdit;
  readonly #computed: SharedComputation<Computed>;

  constructor(base: Image, edit: ImageEdit) {
    this.#base = base;
    this.#edit = edit;
    this.#computed = new SharedComputation((signal) => this.#compute(signal));
  }

  async #compute(signal: AbortSignal): Promise<Computed> {
    const base = this.#base;
    const edit = this.#edit;
    const addenda = edit.layers ?? [];
    let manifest = cloneDocument(await base.manifest({ signal }));
    let config: Computed["config"];
    // The config is read only when an edit touches it: annotating an image must not need its
    // config, which for an artifact may not even be JSON.
    if (addenda.length > 0 || edit.config) {
      let parsed = await base.configFile({ signal });
      if (addenda.length > 0) {
        const rootfs = parsed.rootfs ?? { type: "layers", diff_ids: [] };
        const diffIDs = [...rootfs.diff_ids];
        const history = [...(parsed.history ?? [])];
        for (const addendum of addenda) {
          diffIDs.push(await addendum.layer.diffID({ signal }));
          history.push(cloneDocument(addendum.history ?? {}));
        }
        parsed = { ...parsed, rootfs: { ...rootfs, diff_ids: diffIDs }, history };
      }
      if (edit.config) parsed = edit.config(parsed);
      const raw = encodeJson(parsed);
      config = { raw, parsed: parseConfigFile(raw) };
      const { data: _stale, ...configDescriptor } = manifest.config;
      manifest.config = {
        ...configDescriptor,
        size: raw.byteLength,
        digest: Hash.compute(raw, { algorithm: manifest.config.digest.algorithm }),
      };
    }
    for (const addendum of addenda) {
      manifest.layers.push(await layerDescriptor(addendum, signal));
    }
    if (edit.manifest) manifest = edit.manifest(manifest);
    const rawManifest = encodeJson(manifest);
    // Parsing what was built catches anything an edit made invalid, with the field named.
    manifest = parseManifest(rawManifest);
    return { rawManifest, manifest, digest: Hash.compute(rawManifest), config };
  }

  async mediaType(options: ReadOptions = {}): Promise<string> {
    const { manifest } = await this.#computed.get(options.signal);
    return manifest.mediaType ?? sniffParsed(manifest) ?? MediaType.OCI_MANIFEST;
  }

  async size(options: ReadOptions = {}): Promise<number> {
    return (await this.#computed.get(options.signal)).rawManifest.byteLength;
  }

  async digest(options: ReadOptions = {}): Promise<Hash> {
    return (await this.#computed.get(options.signal)).digest;
  }

  async rawManifest(options: ReadOptions = {}): Promise<Uint8Array> {
    return copyBytes((await this.#computed.get(options.signal)).rawManifest);
  }

  async manifest(options: ReadOptions = {}): Promise<Manifest> {
    return cloneDocument((await this.#computed.get(options.signal)).manifest);
  }

  async rawConfigFile(options: ReadOptions = {}): Promise<Uint8Array> {
    const { config } = await this.#computed.get(options.signal);
    return config ? copyBytes(config.raw) : this.#base.rawConfigFile(options);
  }

  async configFile(options: ReadOptions = {}): Promise<ConfigFile> {
    const { config } = await this.#computed.get(options.signal);
    return config ? cloneDocument(config.parsed) : this.#base.configFile(options);
  }

  async configName(options: ReadOptions = {}): Promise<Hash> {
    return (await this.#computed.get(options.signal)).manifest.config.digest;
  }

  async layers(options: ReadOptions = {}): Promise<Layer[]> {
    const base = await this.#base.layers(options);
    return [...base, ...(this.#edit.layers ?? []).map((addendum) => addendum.layer)];
  }

  async layerByDigest(digest: Hash | string, options: ReadOptions = {}): Promise<Layer> {
    return this.#find(toHash(digest), "digest", options);
  }

  async layerByDiffID(diffID: Hash | string, options: ReadOptions = {}): Promise<Layer> {
    return this.#find(toHash(diffID), "diffID", options);
  }

  async #find(hash: Hash, by: "digest" | "diffID", options: ReadOptions): Promise<Layer> {
    try {
      return by === "digest"
        ? await this.#base.layerByDigest(hash, options)
        : await this.#base.layerByDiffID(hash, options);
    } catch (error) {
      if (!OciError.is(error) || error.code !== "HOIST_OCI_NOT_FOUND") throw error;
    }
    for (const { layer } of this.#edit.layers ?? []) {
      let value: Hash;
      try {
        value = by === "digest" ? await layer.digest(options) : await layer.diffID(options);
      } catch (error) {
        // A stream layer not read yet cannot be the one asked for by digest.
        if (OciError.is(error) && error.code === "HOIST_OCI_NOT_COMPUTED") continue;
        throw error;
      }
      if (value.equals(hash)) return layer;
    }
    throw notFound(`no layer with ${by} ${hash} in the image`, "find layer");
  }
}

async function layerDescriptor(addendum: LayerAddendum, signal: AbortSignal): Promise<Descriptor> {
  const { layer } = addendum;
  const descriptor: Descriptor = layer.descriptor
    ? await layer.descriptor({ signal })
    : {
        mediaType: await layer.mediaType({ signal }),
        size: await layer.size({ signal }),
        digest: await layer.digest({ signal }),
      };
  // The layer's own descriptor may come from another manifest; its size and digest are the
  // layer's, whatever else an addendum overrides.
  descriptor.size = await layer.size({ signal });
  descriptor.digest = await layer.digest({ signal });
  if (addendum.mediaType) descriptor.mediaType = addendum.mediaType;
  if (addendum.urls) descriptor.urls = [...addendum.urls];
  if (addendum.annotations)
    descriptor.annotations = { ...descriptor.annotations, ...addendum.annotations };
  return descriptor;
}

function isLayer(value: unknown): value is Layer {
  return (
    typeof value === "object" && value !== null && typeof (value as Layer).compressed === "function"
  );
}

function invalid(message: string, operation: string): OciError {
  return new OciError(message, { code: "HOIST_OCI_INVALID_ARGUMENT", operation });
}

/** @internal */
export function checkMediaType(mediaType: unknown, operation: string): string {
  if (!isValidMediaType(mediaType)) {
    throw invalid(
      `invalid media type ${quote(mediaType)}: expected "type/subtype" without parameters`,
      operation,
    );
  }
  return mediaType;
}

/** @internal */
export function checkAnnotations(annotations: unknown, operation: string): Record<string, string> {
  if (typeof annotations !== "object" || annotations === null || Array.isArray(annotations)) {
    throw invalid("annotations must be an object of string values", operation);
  }
  for (const [key, value] of Object.entries(annotations)) {
    if (typeof value !== "string") {
      throw invalid(`annotation ${quote(key)} must be a string, got ${typeof value}`, operation);
    }
  }
  return annotations as Record<string, string>;
}

/**
 * A new image: `image` with `layers` added on top, the config's `rootfs.diff_ids` and
 * `history` extended, and the manifest's config descriptor updated. Lazy: nothing is read until
 * asked. Stream layers (see {@link StreamLayer}) must be read before the new manifest exists.
 */
export function appendLayers(image: Image, layers: ReadonlyArray<Layer | LayerAddendum>): Image {
  const operation = "append layers";
  const addenda = layers.map((entry, index): LayerAddendum => {
    if (isLayer(entry)) return { layer: entry };
    if (typeof entry !== "object" || entry === null || !isLayer(entry.layer)) {
      throw invalid(`layers[${index}] is neither a Layer nor { layer: Layer, … }`, operation);
    }
    if (entry.mediaType !== undefined) checkMediaType(entry.mediaType, operation);
    if (entry.annotations !== undefined) checkAnnotations(entry.annotations, operation);
    return { ...entry };
  });
  return new DerivedImage(image, { layers: addenda });
}

/**
 * A new image whose config is `configFile` (as given: `rootfs.diff_ids` must still match the
 * layers). The manifest's config descriptor follows.
 */
export function setConfigFile(image: Image, configFile: ConfigFile): Image {
  const replacement = parseConfigFile(encodeJson(configFile));
  return new DerivedImage(image, { config: () => cloneDocument(replacement) });
}

/**
 * A new image with fields of the container config (`config` in the image config: Env, Cmd,
 * Entrypoint, User, WorkingDir, Labels, ExposedPorts, …) set. Fields not named keep their
 * values; a field given as `undefined` is removed.
 */
export function setConfig(image: Image, fields: ContainerConfig): Image {
  const patch = { ...fields };
  // Validate now, so a bad value fails here rather than at the first read.
  parseConfigFile(encodeJson({ config: patch }));
  return new DerivedImage(image, {
    config: (config) => {
      const merged: Record<string, unknown> = { ...config.config };
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) delete merged[key];
        else merged[key] = cloneDocument(value);
      }
      return { ...config, config: merged as ContainerConfig };
    },
  });
}

/** A new image with the config blob's media type in the manifest changed. */
export function setConfigMediaType(image: Image, mediaType: string): Image {
  checkMediaType(mediaType, "set config media type");
  return new DerivedImage(image, {
    manifest: (manifest) => ({ ...manifest, config: { ...manifest.config, mediaType } }),
  });
}
