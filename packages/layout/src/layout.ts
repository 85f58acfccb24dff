import { unlink } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type BlobSource,
  createImageIndex,
  DEFAULT_MAX_CONFIG_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  type Descriptor,
  type Hash,
  type HashAlgorithm,
  type Image,
  type ImageIndex,
  type IndexManifest,
  isImage,
  isIndex,
  type Platform,
  selectIndexChild,
  VerifyingStream,
} from "@hoist/oci";
import {
  type BlobInput,
  type BlobWriteResult,
  hasValidBlob,
  openBlobFile,
  readBlobBytes,
  toReadable,
  writeBlobFile,
} from "./blob-files.js";
import {
  buildEntry,
  checkEntryOptions,
  type EntryOptions,
  validDescriptor,
} from "./entry-options.js";
import { errnoCode, ioError, LayoutError, quote } from "./errors.js";
import {
  collectGarbage,
  type GarbageCollectOptions,
  type GarbageCollectResult,
} from "./garbage-collect.js";
import { readIndexJson, writeIndexJson } from "./index-file.js";
import { SharedExclusiveLock } from "./locks.js";
import {
  type DescriptorMatcher,
  describeSelector,
  type Selector,
  toMatcher,
  toPlatform,
} from "./matchers.js";
import { blobPath, safeBlobDirectory, validHash } from "./paths.js";
import { indexLevels, type WalkEntry } from "./walk.js";
import { MAX_INDEX_DEPTH, type WriteOptions, writeTree } from "./write-tree.js";

/** Options of every method that only reads. */
export interface LayoutReadOptions {
  signal?: AbortSignal;
}

/** Limits for reading a layout, given when it is opened. */
export interface LayoutLimits {
  /**
   * Cap on index.json and on every manifest and index read from the layout. Default 4 MiB
   * (`DEFAULT_MAX_MANIFEST_BYTES`, what registries accept). index.json grows by about 300 bytes
   * per entry, so raise it for layouts of more than about ten thousand entries.
   */
  maxManifestBytes?: number;
  /** Cap on image configs. Default 4 MiB. */
  maxConfigBytes?: number;
}

/** How to look up one image or index. */
export interface LookupOptions extends LayoutReadOptions {
  /**
   * When the entry found is an index, pick the image for this platform from it (the rules of a
   * pull: an entry without platform counts as linux/amd64, first match wins), descending into
   * nested indexes.
   */
  platform?: Platform | string;
}

/** How to search several entries. */
export interface FindOptions extends LayoutReadOptions {
  /**
   * Also search the entries of nested indexes, level by level. Default false: only the entries of
   * index.json, as go-containerregistry's `partial.FindManifests`.
   */
  recursive?: boolean;
}

/** Options of {@link Layout.appendImage}, {@link Layout.appendIndex} and the replace methods. */
export interface AppendOptions extends WriteOptions, EntryOptions {}

/** What a replace did. */
export interface ReplaceResult {
  /** The entry added. */
  descriptor: Descriptor;
  /** The entries removed because they matched. */
  removed: Descriptor[];
}

/** Options of {@link Layout.writeBlob}. */
export interface WriteBlobOptions {
  /** The digest the bytes must have; they are verified while written. Omitted: computed. */
  digest?: Hash | string;
  /** The exact size, checked while written. */
  size?: number;
  /** Algorithm of a computed digest. Default sha256. */
  algorithm?: HashAlgorithm;
  signal?: AbortSignal;
  onProgress?: WriteOptions["onProgress"];
}

/**
 * An OCI image layout on disk: `oci-layout`, `index.json` and `blobs/<alg>/<hex>`. Every method
 * reads index.json afresh, so changes made by other programs are seen. Methods of one Layout
 * object may run concurrently: appends share the layout, edits of index.json run one at a time,
 * and {@link Layout.garbageCollect} waits until it has the layout alone. Nothing coordinates
 * separate processes: do not collect garbage while another program writes to the layout.
 */
export interface Layout {
  /** The layout's directory, absolute. */
  readonly path: string;

  /** index.json as an {@link ImageIndex}; its children are read from the layout, verified. */
  imageIndex(options?: LayoutReadOptions): Promise<ImageIndex>;
  /** index.json, parsed (every digest in it validated). */
  indexManifest(options?: LayoutReadOptions): Promise<IndexManifest>;
  /** The entries that match, from index.json (and nested indexes with `recursive`). */
  findDescriptors(selector: Selector, options?: FindOptions): Promise<Descriptor[]>;
  /** The images among the entries that match. */
  findImages(selector: Selector, options?: FindOptions): Promise<Image[]>;
  /** The indexes among the entries that match. */
  findIndexes(selector: Selector, options?: FindOptions): Promise<ImageIndex[]>;
  /**
   * The one image selected: by reference name, digest or matcher. index.json's entries are
   * searched first, then those of nested indexes level by level; the first level with a match
   * decides, and several different matches there fail with `HOIST_LAYOUT_AMBIGUOUS`.
   */
  image(selector: Selector, options?: LookupOptions): Promise<Image>;
  /** The one index selected, as {@link Layout.image}. */
  index(selector: Selector, options?: LayoutReadOptions): Promise<ImageIndex>;

  /** A blob's bytes, verified against its digest while they stream. */
  blob(digest: Hash | string, options?: LayoutReadOptions): Promise<Readable>;
  /** A small blob's bytes, verified; refuses blobs over `maxBytes` (default 4 MiB). */
  blobBytes(
    digest: Hash | string,
    options?: LayoutReadOptions & { maxBytes?: number },
  ): Promise<Uint8Array>;
  /** True when the blob is present; with `verify`, only when its bytes also match its digest. */
  hasBlob(
    digest: Hash | string,
    options?: LayoutReadOptions & { verify?: boolean },
  ): Promise<boolean>;

  /**
   * Stores bytes as a blob, atomically. With `digest`, the bytes are verified while written and
   * a verified copy already present is kept (the input is then not read, and destroyed if it is a
   * stream); without, the digest is computed and the blob named by it.
   */
  writeBlob(input: BlobInput, options?: WriteBlobOptions): Promise<BlobWriteResult>;
  /** Deletes a blob, whether or not anything refers to it. False when it was not there. */
  removeBlob(digest: Hash | string, options?: LayoutReadOptions): Promise<boolean>;
  /** Writes an image's blobs (layers, config, manifest) without listing it in index.json. */
  writeImage(image: Image, options?: WriteOptions): Promise<Descriptor>;
  /** Writes an index and everything below it without listing it in index.json. */
  writeIndex(index: ImageIndex, options?: WriteOptions): Promise<Descriptor>;
  /** Writes an image and adds an entry for it to index.json; returns the entry. */
  appendImage(image: Image, options?: AppendOptions): Promise<Descriptor>;
  /** Writes an index (and all below it) and adds an entry for it to index.json. */
  appendIndex(index: ImageIndex, options?: AppendOptions): Promise<Descriptor>;
  /** Adds an entry to index.json as given (after validating it). */
  appendDescriptor(descriptor: Descriptor, options?: LayoutReadOptions): Promise<Descriptor>;
  /** Writes an image, then in one edit of index.json removes the matching entries and adds it. */
  replaceImage(image: Image, selector: Selector, options?: AppendOptions): Promise<ReplaceResult>;
  /** Writes an index, then replaces the matching entries with it. */
  replaceIndex(
    index: ImageIndex,
    selector: Selector,
    options?: AppendOptions,
  ): Promise<ReplaceResult>;
  /** Removes the matching entries from index.json (blobs stay until garbage collection). */
  removeDescriptors(selector: Selector, options?: LayoutReadOptions): Promise<Descriptor[]>;
  /**
   * Removes every blob that index.json does not reach through nested indexes, manifests,
   * configs, layers and subjects, and leftovers of interrupted writes. Fails without removing
   * anything when a manifest it needs to follow is missing or corrupt.
   */
  garbageCollect(options?: GarbageCollectOptions): Promise<GarbageCollectResult>;
}

/** @internal */
export class LayoutImpl implements Layout {
  readonly path: string;
  readonly #maxManifestBytes: number;
  readonly #maxConfigBytes: number;
  /** Shared by writers, held alone by garbage collection. */
  readonly #gate = new SharedExclusiveLock();
  /** Serialises edits of index.json. */
  readonly #indexEdits = new SharedExclusiveLock();
  readonly #source: BlobSource;

  constructor(root: string, limits: LayoutLimits) {
    this.path = root;
    this.#maxManifestBytes = limits.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.#maxConfigBytes = limits.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES;
    this.#source = {
      blob: async (descriptor, options = {}) =>
        (
          await openBlobFile(root, validHash(descriptor.digest, "read blob"), {
            size: descriptor.size,
            operation: "read blob",
            signal: options.signal,
          })
        ).stream,
    };
  }

  #readIndex(operation: string, signal?: AbortSignal) {
    return readIndexJson(this.path, { maxBytes: this.#maxManifestBytes, operation, signal });
  }

  async imageIndex(options: LayoutReadOptions = {}): Promise<ImageIndex> {
    const { raw } = await this.#readIndex("read index.json", options.signal);
    return createImageIndex({
      rawManifest: raw,
      source: this.#source,
      maxManifestBytes: this.#maxManifestBytes,
      maxConfigBytes: this.#maxConfigBytes,
    });
  }

  async indexManifest(options: LayoutReadOptions = {}): Promise<IndexManifest> {
    return (await this.#readIndex("read index.json", options.signal)).index;
  }

  async #find(selector: Selector, options: FindOptions, operation: string): Promise<WalkEntry[]> {
    const matcher = toMatcher(selector, operation);
    const found: WalkEntry[] = [];
    const root = await this.imageIndex(options);
    for await (const level of indexLevels(root, { signal: options.signal, operation })) {
      for (const entry of level) if (matcher(entry.descriptor)) found.push(entry);
      if (!options.recursive) break;
    }
    return found;
  }

  async findDescriptors(selector: Selector, options: FindOptions = {}): Promise<Descriptor[]> {
    return (await this.#find(selector, options, "find descriptors")).map(
      (entry) => entry.descriptor,
    );
  }

  async findImages(selector: Selector, options: FindOptions = {}): Promise<Image[]> {
    const signal = options.signal;
    const entries = await this.#find(selector, options, "find images");
    return Promise.all(
      entries
        .filter((entry) => isImage(entry.descriptor.mediaType))
        .map((entry) => entry.parent.image(entry.descriptor.digest, { signal })),
    );
  }

  async findIndexes(selector: Selector, options: FindOptions = {}): Promise<ImageIndex[]> {
    const signal = options.signal;
    const entries = await this.#find(selector, options, "find indexes");
    return Promise.all(
      entries
        .filter((entry) => isIndex(entry.descriptor.mediaType))
        .map((entry) => entry.parent.imageIndex(entry.descriptor.digest, { signal })),
    );
  }

  /** The one entry selected: nearest level first; several distinct digests there are ambiguous. */
  async #lookup(selector: Selector, operation: string, signal?: AbortSignal): Promise<WalkEntry> {
    const matcher = toMatcher(selector, operation);
    const root = await this.imageIndex({ signal });
    for await (const level of indexLevels(root, { signal, operation })) {
      const matches = level.filter((entry) => matcher(entry.descriptor));
      if (matches.length === 0) continue;
      const digests = [...new Set(matches.map((entry) => String(entry.descriptor.digest)))];
      if (digests.length > 1) {
        throw new LayoutError(
          `${describeSelector(selector)} matches ${digests.length} different entries (${digests.join(", ")}); select one by digest, or use findImages/findDescriptors for all`,
          { code: "HOIST_LAYOUT_AMBIGUOUS", operation, path: this.path },
        );
      }
      return matches[0] as WalkEntry;
    }
    throw new LayoutError(
      `no entry of the layout at ${quote(this.path)} matches ${describeSelector(selector)}`,
      {
        code: "HOIST_LAYOUT_NOT_FOUND",
        operation,
        path: this.path,
      },
    );
  }

  async image(selector: Selector, options: LookupOptions = {}): Promise<Image> {
    const operation = "find image";
    const { signal } = options;
    const platform = options.platform === undefined ? undefined : toPlatform(options.platform);
    let { descriptor, parent } = await this.#lookup(selector, operation, signal);
    for (let depth = 0; isIndex(descriptor.mediaType); depth++) {
      if (!platform) {
        throw new LayoutError(
          `${describeSelector(selector)} is an index (${descriptor.digest}), not an image; pass a platform to pick one of its images, or call index()`,
          { code: "HOIST_LAYOUT_WRONG_KIND", operation, digest: String(descriptor.digest) },
        );
      }
      if (depth > MAX_INDEX_DEPTH) break;
      parent = await parent.imageIndex(descriptor.digest, { signal });
      const child = selectIndexChild((await parent.indexManifest({ signal })).manifests, platform);
      if (!child) {
        throw new LayoutError(
          `index ${descriptor.digest} has no image for platform ${quote(`${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ""}`)}`,
          { code: "HOIST_LAYOUT_NOT_FOUND", operation, digest: String(descriptor.digest) },
        );
      }
      descriptor = child;
    }
    if (!isImage(descriptor.mediaType)) {
      throw new LayoutError(
        `${describeSelector(selector)} names ${descriptor.digest} of media type ${quote(descriptor.mediaType)}, which is not an image manifest`,
        { code: "HOIST_LAYOUT_WRONG_KIND", operation, digest: String(descriptor.digest) },
      );
    }
    return parent.image(descriptor.digest, { signal });
  }

  async index(selector: Selector, options: LayoutReadOptions = {}): Promise<ImageIndex> {
    const operation = "find index";
    const { descriptor, parent } = await this.#lookup(selector, operation, options.signal);
    if (!isIndex(descriptor.mediaType)) {
      throw new LayoutError(
        `${describeSelector(selector)} names ${descriptor.digest} of media type ${quote(descriptor.mediaType)}, which is not an index; call image()`,
        { code: "HOIST_LAYOUT_WRONG_KIND", operation, digest: String(descriptor.digest) },
      );
    }
    return parent.imageIndex(descriptor.digest, { signal: options.signal });
  }

  async blob(digest: Hash | string, options: LayoutReadOptions = {}): Promise<Readable> {
    const operation = "read blob";
    const hash = validHash(digest, operation);
    const { stream, size } = await openBlobFile(this.path, hash, {
      operation,
      signal: options.signal,
    });
    const verifier = new VerifyingStream({
      digest: hash,
      size,
      operation,
      subject: `blob ${hash}`,
    });
    pipeline(stream, verifier).catch(() => {});
    return verifier;
  }

  async blobBytes(
    digest: Hash | string,
    options: LayoutReadOptions & { maxBytes?: number } = {},
  ): Promise<Uint8Array> {
    const operation = "read blob";
    return readBlobBytes(this.path, validHash(digest, operation), {
      maxBytes: options.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
      operation,
      signal: options.signal,
    });
  }

  async hasBlob(
    digest: Hash | string,
    options: LayoutReadOptions & { verify?: boolean } = {},
  ): Promise<boolean> {
    const operation = "check blob";
    const hash = validHash(digest, operation);
    if (options.verify) return hasValidBlob(this.path, hash, { operation, signal: options.signal });
    try {
      const { stream } = await openBlobFile(this.path, hash, { operation });
      stream.destroy();
      return true;
    } catch (error) {
      if (LayoutError.is(error) && error.code === "HOIST_LAYOUT_BLOB_NOT_FOUND") return false;
      throw error;
    }
  }

  async writeBlob(input: BlobInput, options: WriteBlobOptions = {}): Promise<BlobWriteResult> {
    const operation = "write blob";
    const digest = options.digest === undefined ? undefined : validHash(options.digest, operation);
    if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
      throw new LayoutError(`size must be a non-negative integer, got ${String(options.size)}`, {
        code: "HOIST_LAYOUT_INVALID_ARGUMENT",
        operation,
      });
    }
    const source = toReadable(input);
    let written = 0;
    let total = options.size ?? 0;
    try {
      const result = await this.#gate.shared(
        () =>
          writeBlobFile(this.path, async () => source, {
            digest,
            size: options.size,
            algorithm: options.algorithm,
            operation,
            signal: options.signal,
            onBytes: (bytes) => {
              written += bytes;
              total = Math.max(total, written);
              options.onProgress?.({ writtenBytes: written, totalBytes: total });
            },
          }),
        options.signal,
      );
      // A present blob was not read: the input is released rather than left open.
      if (!result.written) source.destroy();
      return result;
    } catch (error) {
      source.destroy();
      throw error;
    }
  }

  async removeBlob(digest: Hash | string, options: LayoutReadOptions = {}): Promise<boolean> {
    const operation = "remove blob";
    const hash = validHash(digest, operation);
    return this.#gate.shared(async () => {
      const directory = await safeBlobDirectory(this.path, hash.algorithm, {
        create: false,
        operation,
      });
      if (directory === undefined) return false;
      const path = blobPath(this.path, hash, operation);
      try {
        await unlink(path);
        return true;
      } catch (error) {
        if (errnoCode(error) === "ENOENT") return false;
        throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", operation, path);
      }
    }, options.signal);
  }

  async writeImage(image: Image, options: WriteOptions = {}): Promise<Descriptor> {
    return this.#gate.shared(
      () => writeTree(this.path, image, { ...options, operation: "write image" }),
      options.signal,
    );
  }

  async writeIndex(index: ImageIndex, options: WriteOptions = {}): Promise<Descriptor> {
    return this.#gate.shared(
      () => writeTree(this.path, index, { ...options, operation: "write index" }),
      options.signal,
    );
  }

  async appendImage(image: Image, options: AppendOptions = {}): Promise<Descriptor> {
    return this.#add(image, undefined, options, "append image").then((result) => result.descriptor);
  }

  async appendIndex(index: ImageIndex, options: AppendOptions = {}): Promise<Descriptor> {
    return this.#add(index, undefined, options, "append index").then((result) => result.descriptor);
  }

  async replaceImage(
    image: Image,
    selector: Selector,
    options: AppendOptions = {},
  ): Promise<ReplaceResult> {
    return this.#add(image, toMatcher(selector, "replace image"), options, "replace image");
  }

  async replaceIndex(
    index: ImageIndex,
    selector: Selector,
    options: AppendOptions = {},
  ): Promise<ReplaceResult> {
    return this.#add(index, toMatcher(selector, "replace index"), options, "replace index");
  }

  async #add(
    target: Image | ImageIndex,
    replace: DescriptorMatcher | undefined,
    options: AppendOptions,
    operation: string,
  ): Promise<ReplaceResult> {
    // Options are checked before anything is written, so a typo loses nothing.
    const fields = checkEntryOptions(options, operation);
    return this.#gate.shared(async () => {
      const written = await writeTree(this.path, target, { ...options, operation });
      const entry = await buildEntry(written, target, fields, options, operation);
      let removed: Descriptor[] = [];
      await this.#editIndex(operation, options.signal, (index) => {
        if (replace) {
          removed = index.manifests.filter((descriptor) => replace(descriptor));
          index.manifests = index.manifests.filter((descriptor) => !replace(descriptor));
        }
        index.manifests.push(entry);
        return index;
      });
      return { descriptor: entry, removed };
    }, options.signal);
  }

  async appendDescriptor(
    descriptor: Descriptor,
    options: LayoutReadOptions = {},
  ): Promise<Descriptor> {
    const operation = "append descriptor";
    const entry = validDescriptor(descriptor, operation);
    return this.#gate.shared(async () => {
      await this.#editIndex(operation, options.signal, (index) => {
        index.manifests.push(entry);
        return index;
      });
      return entry;
    }, options.signal);
  }

  async removeDescriptors(
    selector: Selector,
    options: LayoutReadOptions = {},
  ): Promise<Descriptor[]> {
    const operation = "remove descriptors";
    const matcher = toMatcher(selector, operation);
    return this.#gate.shared(async () => {
      let removed: Descriptor[] = [];
      await this.#editIndex(operation, options.signal, (index) => {
        removed = index.manifests.filter((descriptor) => matcher(descriptor));
        index.manifests = index.manifests.filter((descriptor) => !matcher(descriptor));
        return index;
      });
      return removed;
    }, options.signal);
  }

  async garbageCollect(options: GarbageCollectOptions = {}): Promise<GarbageCollectResult> {
    const operation = "garbage collect";
    return this.#gate.exclusive(async () => {
      const { index } = await this.#readIndex(operation, options.signal);
      return collectGarbage({
        root: this.path,
        maxManifestBytes: this.#maxManifestBytes,
        index,
        signal: options.signal,
        dryRun: options.dryRun ?? false,
      });
    }, options.signal);
  }

  /** @internal Replaces index.json with the given bytes (writeLayout). */
  replaceIndexJson(raw: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.#indexEdits.exclusive(
      () => writeIndexJson(this.path, raw, { operation: "write layout", signal }),
      signal,
    );
  }

  /** @internal Runs a tree write under the layout's writer lock (writeLayout). */
  shared<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.#gate.shared(work, signal);
  }

  #editIndex(
    operation: string,
    signal: AbortSignal | undefined,
    edit: (index: IndexManifest) => IndexManifest,
  ): Promise<void> {
    return this.#indexEdits.exclusive(async () => {
      const { index } = await this.#readIndex(operation, signal);
      await writeIndexJson(this.path, edit(index), { operation, signal });
    }, signal);
  }
}
