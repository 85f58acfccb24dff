import { notFound, OciError } from "./errors.js";
import { Hash, toHash } from "./hash.js";
import type { Image, ImageIndex, Layer, ReadOptions } from "./interfaces.js";
import { cloneDocument, copyBytes, encodeJson } from "./json.js";
import { isConfig, isIndex, MediaType, sniffParsed } from "./media-type.js";
import { checkAnnotations, checkMediaType } from "./mutate-image.js";
import { parseIndexManifest } from "./parse-document.js";
import { quote } from "./quote.js";
import { PlatformSchema } from "./schemas.js";
import { SharedComputation } from "./shared-computation.js";
import type { Descriptor, IndexManifest, Platform } from "./types.js";

/** Descriptor fields an index entry may be given when it is added. */
export type IndexEntryFields = Partial<
  Pick<Descriptor, "mediaType" | "platform" | "annotations" | "urls" | "artifactType">
>;

/** Something to add to an index, with fields for its entry. */
export interface IndexAddendum {
  add: Image | ImageIndex | Layer;
  /**
   * Set on the new entry. When `platform` is absent and `add` is an image whose config names an
   * os and architecture, the platform is taken from the config.
   */
  descriptor?: IndexEntryFields;
}

type Child =
  | { kind: "image"; value: Image }
  | { kind: "index"; value: ImageIndex }
  | { kind: "blob"; value: Layer };

/** @internal The edits one derived index applies to its base. */
export interface IndexEdit {
  add?: readonly IndexAddendum[];
  remove?: (descriptor: Descriptor) => boolean;
  manifest?: (index: IndexManifest) => IndexManifest;
}

interface Computed {
  rawManifest: Uint8Array;
  index: IndexManifest;
  digest: Hash;
  children: Map<string, Child>;
}

function classify(value: Image | ImageIndex | Layer): Child {
  if (typeof (value as ImageIndex).indexManifest === "function")
    return { kind: "index", value: value as ImageIndex };
  if (typeof (value as Image).configFile === "function")
    return { kind: "image", value: value as Image };
  if (typeof (value as Layer).compressed === "function")
    return { kind: "blob", value: value as Layer };
  throw new OciError("an index entry must be an Image, an ImageIndex or a Layer", {
    code: "HOIST_OCI_INVALID_ARGUMENT",
    operation: "append manifests",
  });
}

/** The platform an image's config declares, when it names both os and architecture. */
export async function platformFromConfig(
  image: Image,
  options: ReadOptions = {},
): Promise<Platform | undefined> {
  const config = await image.configFile(options);
  if (!config.os || !config.architecture) return undefined;
  const platform: Platform = { architecture: config.architecture, os: config.os };
  if (config.variant) platform.variant = config.variant;
  if (config["os.version"]) platform["os.version"] = config["os.version"];
  if (config["os.features"]?.length) platform["os.features"] = [...config["os.features"]];
  return platform;
}

async function entryFor(
  child: Child,
  fields: IndexEntryFields | undefined,
  signal: AbortSignal,
): Promise<Descriptor> {
  const { value } = child;
  const descriptor: Descriptor = {
    mediaType: await value.mediaType({ signal }),
    size: await value.size({ signal }),
    digest: await value.digest({ signal }),
  };
  if (child.kind === "image") {
    const manifest = await child.value.manifest({ signal });
    if (manifest.artifactType) descriptor.artifactType = manifest.artifactType;
    // Only image configs name a platform; an artifact's config may be anything.
    if (!fields?.platform && isConfig(manifest.config.mediaType)) {
      const platform = await platformFromConfig(child.value, { signal });
      if (platform) descriptor.platform = platform;
    }
  }
  if (fields) {
    const copy = cloneDocument(fields);
    Object.assign(descriptor, copy);
  }
  return descriptor;
}

// An index made from another by edits (go-containerregistry's mutate.index); lazy like
// DerivedImage. Children added here are served from memory, the rest by the base index.
/** @internal */
export class DerivedIndex implements ImageIndex {
  readonly #base: ImageIndex;
  readonly #edit: IndexEdit;
  readonly #computed: SharedComputation<Computed>;

  constructor(base: ImageIndex, edit: IndexEdit) {
    this.#base = base;
    this.#edit = edit;
    this.#computed = new SharedComputation((signal) => this.#compute(signal));
  }

  async #compute(signal: AbortSignal): Promise<Computed> {
    let index = cloneDocument(await this.#base.indexManifest({ signal }));
    const children = new Map<string, Child>();
    for (const addendum of this.#edit.add ?? []) {
      const child = classify(addendum.add);
      const descriptor = await entryFor(child, addendum.descriptor, signal);
      children.set(descriptor.digest.toString(), child);
      index.manifests.push(descriptor);
    }
    if (this.#edit.remove) {
      const remove = this.#edit.remove;
      index.manifests = index.manifests.filter((descriptor) => !remove(cloneDocument(descriptor)));
    }
    if (this.#edit.manifest) index = this.#edit.manifest(index);
    const rawManifest = encodeJson(index);
    index = parseIndexManifest(rawManifest);
    return { rawManifest, index, digest: Hash.compute(rawManifest), children };
  }

  async mediaType(options: ReadOptions = {}): Promise<string> {
    const { index } = await this.#computed.get(options.signal);
    return index.mediaType ?? sniffParsed(index) ?? MediaType.OCI_INDEX;
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

  async indexManifest(options: ReadOptions = {}): Promise<IndexManifest> {
    return cloneDocument((await this.#computed.get(options.signal)).index);
  }

  async #child(
    digest: Hash | string,
    want: Child["kind"],
    options: ReadOptions,
  ): Promise<Child["value"]> {
    const hash = toHash(digest);
    const { index, children, digest: own } = await this.#computed.get(options.signal);
    const descriptor = index.manifests.find((entry) => entry.digest.equals(hash));
    if (!descriptor)
      throw notFound(`no child with digest ${hash} in index ${own}`, "find index child");
    const added = children.get(hash.toString());
    const kind =
      added?.kind ?? (isIndex(descriptor.mediaType) ? "index" : want === "index" ? "image" : want);
    if (kind !== want) {
      const call = { image: "image()", index: "imageIndex()", blob: "blob()" }[kind];
      throw new OciError(
        `index child ${hash} (media type ${quote(descriptor.mediaType)}) is not ${want === "index" ? "an index" : `a ${want}`}; call ${call} instead`,
        { code: "HOIST_OCI_UNEXPECTED_MEDIA_TYPE", operation: "read index child" },
      );
    }
    if (added) return added.value;
    if (want === "image") return this.#base.image(hash, options);
    if (want === "index") return this.#base.imageIndex(hash, options);
    return this.#base.blob(hash, options);
  }

  async image(digest: Hash | string, options: ReadOptions = {}): Promise<Image> {
    return (await this.#child(digest, "image", options)) as Image;
  }

  async imageIndex(digest: Hash | string, options: ReadOptions = {}): Promise<ImageIndex> {
    return (await this.#child(digest, "index", options)) as ImageIndex;
  }

  async blob(digest: Hash | string, options: ReadOptions = {}): Promise<Layer> {
    return (await this.#child(digest, "blob", options)) as Layer;
  }
}

/**
 * A new index with `manifests` appended. An image's entry gets its platform from the image's
 * config (unless the addendum gives one) and its `artifactType` from the manifest. Layers are
 * added as blob entries.
 */
export function appendManifests(
  index: ImageIndex,
  manifests: ReadonlyArray<Image | ImageIndex | IndexAddendum>,
): ImageIndex {
  const operation = "append manifests";
  const addenda = manifests.map((entry, position): IndexAddendum => {
    if (typeof entry === "object" && entry !== null && "add" in entry) {
      classify(entry.add);
      const fields = entry.descriptor;
      if (fields?.mediaType !== undefined) checkMediaType(fields.mediaType, operation);
      if (fields?.artifactType !== undefined) checkMediaType(fields.artifactType, operation);
      if (fields?.annotations !== undefined) checkAnnotations(fields.annotations, operation);
      if (fields?.platform !== undefined && !PlatformSchema.safeParse(fields.platform).success) {
        throw new OciError(
          `manifests[${position}].descriptor.platform needs string os and architecture`,
          {
            code: "HOIST_OCI_INVALID_ARGUMENT",
            operation,
          },
        );
      }
      return { add: entry.add, descriptor: fields ? cloneDocument(fields) : undefined };
    }
    classify(entry as Image | ImageIndex);
    return { add: entry as Image | ImageIndex };
  });
  return new DerivedIndex(index, { add: addenda });
}

/** A new index without the entries for which `remove` returns true (`crane index filter`). */
export function removeManifests(
  index: ImageIndex,
  remove: (descriptor: Descriptor) => boolean,
): ImageIndex {
  if (typeof remove !== "function") {
    throw new OciError("removeManifests needs a predicate function", {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation: "remove manifests",
    });
  }
  return new DerivedIndex(index, { remove });
}
