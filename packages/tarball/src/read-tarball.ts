import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  DEFAULT_GZIP_LEVEL,
  DEFAULT_MAX_CONFIG_BYTES,
  detectCompression,
  type Image,
  parseConfigFile,
  type ReadOptions,
} from "@hoist/oci";
import { ArchiveFile } from "./archive-file.js";
import {
  cloneDescriptors,
  DEFAULT_MAX_MANIFEST_JSON_BYTES,
  parseManifestJson,
  type TarballDescriptor,
} from "./docker-manifest.js";
import { invalidArgument, quote, reason, TarballError } from "./errors.js";
import { type ReferenceInput, repoTagName, tagName } from "./repo-tags.js";
import { TarIndex } from "./tar-index.js";
import { TarballImage, TarballLayer, type UncompressedLayers } from "./tarball-image.js";

export interface OpenTarballOptions {
  signal?: AbortSignal;
  /**
   * How layers stored uncompressed (what `docker save` and skopeo write) are presented.
   * `"gzip"` (default, as go-containerregistry): as gzip blobs (`…rootfs.diff.tar.gzip`),
   * compressed deterministically at `gzipLevel` when first needed, so the image can be pushed
   * as registries expect. `"keep"`: as uncompressed blobs (`…rootfs.diff.tar`) whose digest is
   * the diffID, so the manifest needs no pass over the layers.
   */
  uncompressedLayers?: UncompressedLayers;
  /** gzip level 0–9 for `uncompressedLayers: "gzip"`. Default: 6, as `@hoist/oci`. */
  gzipLevel?: number;
  /** Where a stream is spooled. Default: the system temporary directory. */
  tempDirectory?: string;
  /** Cap on `manifest.json`. Default: 8 MiB. */
  maxManifestBytes?: number;
  /** Cap on each config blob. Default: 4 MiB, as `@hoist/oci`. */
  maxConfigBytes?: number;
}

/** One image of a tarball with the tags `manifest.json` gives it. */
export interface TarballImageEntry {
  repoTags: string[];
  image: Image;
}

/** An opened `docker save` tarball. Close it to remove a spooled copy. */
export interface Tarball {
  /** The file read: the path given, or the spooled copy of a stream. */
  readonly path: string;
  /** `manifest.json`, parsed (a fresh copy on each access). */
  readonly descriptors: TarballDescriptor[];
  /**
   * The image with tag `tag` (tags are compared fully qualified, so `ubuntu` finds
   * `index.docker.io/library/ubuntu:latest`), or the only image when no tag is given.
   */
  image(options?: { tag?: ReferenceInput; signal?: AbortSignal }): Promise<Image>;
  /** Every image, in `manifest.json` order. */
  images(options?: ReadOptions): Promise<TarballImageEntry[]>;
  /** Ends reading: images of this tarball fail with `HOIST_TARBALL_CLOSED` afterwards. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const OPERATION = "read tarball";

function checkOptions(options: OpenTarballOptions): void {
  const { uncompressedLayers, gzipLevel } = options;
  if (
    uncompressedLayers !== undefined &&
    uncompressedLayers !== "gzip" &&
    uncompressedLayers !== "keep"
  ) {
    throw invalidArgument(
      `uncompressedLayers must be "gzip" or "keep", got ${quote(uncompressedLayers)}`,
      OPERATION,
    );
  }
  if (gzipLevel !== undefined && (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9)) {
    throw invalidArgument(`gzipLevel must be an integer from 0 to 9, got ${gzipLevel}`, OPERATION);
  }
  for (const name of ["maxManifestBytes", "maxConfigBytes"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw invalidArgument(`${name} must be a positive integer, got ${value}`, OPERATION);
    }
  }
}

async function spool(
  source: Readable | AsyncIterable<Uint8Array>,
  options: OpenTarballOptions,
): Promise<{ path: string; directory: string }> {
  let directory: string;
  try {
    directory = await mkdtemp(join(options.tempDirectory ?? tmpdir(), "hoist-tarball-"));
  } catch (error) {
    throw new TarballError(
      `cannot create a temporary directory to spool the tarball stream into (${reason(error)}); set tempDirectory`,
      { code: "HOIST_TARBALL_WRITE_FAILED", operation: OPERATION, cause: error },
    );
  }
  const path = join(directory, "spooled.tar");
  try {
    const readable =
      source instanceof Readable ? source : Readable.from(source, { objectMode: false });
    await pipeline(readable, createWriteStream(path, { flags: "wx" }), {
      signal: options.signal,
    });
    return { path, directory };
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    if (options.signal?.aborted || TarballError.is(error)) throw error;
    throw new TarballError(`cannot spool the tarball stream to ${quote(path)} (${reason(error)})`, {
      code: "HOIST_TARBALL_READ_FAILED",
      operation: OPERATION,
      cause: error,
    });
  }
}

class OpenedTarball implements Tarball {
  readonly #archive: ArchiveFile;
  readonly #descriptors: TarballDescriptor[];
  readonly #options: OpenTarballOptions;
  readonly #spoolDirectory: string | undefined;

  constructor(
    archive: ArchiveFile,
    descriptors: TarballDescriptor[],
    options: OpenTarballOptions,
    spoolDirectory: string | undefined,
  ) {
    this.#archive = archive;
    this.#descriptors = descriptors;
    this.#options = options;
    this.#spoolDirectory = spoolDirectory;
  }

  get path(): string {
    return this.#archive.path;
  }

  get descriptors(): TarballDescriptor[] {
    return cloneDescriptors(this.#descriptors);
  }

  async image(options: { tag?: ReferenceInput; signal?: AbortSignal } = {}): Promise<Image> {
    const { tag, signal } = options;
    if (tag === undefined) {
      if (this.#descriptors.length !== 1) {
        throw new TarballError(
          `tarball ${quote(this.path)} holds ${this.#descriptors.length} images; name one by tag (its tags: ${this.#tagList()})`,
          { code: "HOIST_TARBALL_AMBIGUOUS_IMAGE", operation: OPERATION },
        );
      }
      return this.#build(this.#descriptors[0] as TarballDescriptor, signal);
    }
    const wanted = tagName(tag, OPERATION);
    const found = this.#descriptors.find((descriptor) =>
      descriptor.RepoTags.some((repoTag) => repoTagName(repoTag) === wanted),
    );
    if (!found) {
      throw new TarballError(
        `tag ${quote(String(tag))} is not in tarball ${quote(this.path)} (its tags: ${this.#tagList()})`,
        { code: "HOIST_TARBALL_IMAGE_NOT_FOUND", operation: OPERATION, input: String(tag) },
      );
    }
    return this.#build(found, signal);
  }

  async images(options: ReadOptions = {}): Promise<TarballImageEntry[]> {
    const entries: TarballImageEntry[] = [];
    for (const descriptor of this.#descriptors) {
      entries.push({
        repoTags: [...descriptor.RepoTags],
        image: await this.#build(descriptor, options.signal),
      });
    }
    return entries;
  }

  async close(): Promise<void> {
    this.#archive.markClosed();
    if (this.#spoolDirectory) await rm(this.#spoolDirectory, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #tagList(): string {
    const tags = this.#descriptors.flatMap((descriptor) => descriptor.RepoTags);
    if (tags.length === 0) return "none";
    const shown = tags.slice(0, 10).map((tag) => quote(tag));
    return tags.length > 10 ? `${shown.join(", ")}, …` : shown.join(", ");
  }

  async #build(descriptor: TarballDescriptor, signal: AbortSignal | undefined): Promise<Image> {
    signal?.throwIfAborted();
    const archive = this.#archive;
    const maxConfigBytes = this.#options.maxConfigBytes ?? DEFAULT_MAX_CONFIG_BYTES;
    const configLocation = archive.index.locate(descriptor.Config, OPERATION, "config");
    const rawConfig = await archive.bytes(configLocation, maxConfigBytes, OPERATION, "config");
    const config = parseConfigFile(rawConfig, { maxBytes: maxConfigBytes });
    const diffIDs = config.rootfs?.diff_ids ?? [];
    if (diffIDs.length !== descriptor.Layers.length) {
      throw new TarballError(
        `manifest.json lists ${descriptor.Layers.length} layers for config ${quote(descriptor.Config)} but the config has ${diffIDs.length} rootfs.diff_ids; the tarball is inconsistent`,
        { code: "HOIST_TARBALL_INVALID_MANIFEST", operation: OPERATION },
      );
    }
    const layers: TarballLayer[] = [];
    for (const [index, path] of descriptor.Layers.entries()) {
      signal?.throwIfAborted();
      const location = archive.index.locate(path, OPERATION, "layer");
      const diffID = diffIDs[index];
      if (!diffID) throw new Error("unreachable: diffIDs and layers have equal lengths");
      layers.push(
        new TarballLayer({
          archive,
          location,
          diffID,
          stored: detectCompression(await archive.head(location, 4, OPERATION)),
          source: descriptor.LayerSources?.[diffID.toString()],
          uncompressedLayers: this.#options.uncompressedLayers ?? "gzip",
          gzipLevel: this.#options.gzipLevel ?? DEFAULT_GZIP_LEVEL,
        }),
      );
    }
    return new TarballImage({ rawConfig, layers, maxConfigBytes });
  }
}

/**
 * Opens a `docker save` tarball: a file path (read in place by offset), or a stream (spooled to
 * a temporary file first, removed by `close()`). The archive's headers are indexed once and
 * `manifest.json` is parsed; images are built when asked. Symbolic and hard links inside the
 * archive are followed (skopeo writes legacy `layer.tar` links) with cycle detection.
 */
export async function openTarball(
  source: string | Readable | AsyncIterable<Uint8Array>,
  options: OpenTarballOptions = {},
): Promise<Tarball> {
  checkOptions(options);
  options.signal?.throwIfAborted();
  let spooled: { path: string; directory: string } | undefined;
  if (typeof source !== "string") {
    if (typeof source !== "object" || source === null || !(Symbol.asyncIterator in source)) {
      throw invalidArgument(
        "expected a file path, a Readable or an async iterable of bytes",
        OPERATION,
      );
    }
    spooled = await spool(source, options);
  } else if (source === "") {
    throw invalidArgument("expected a file path, got an empty string", OPERATION);
  }
  const path = spooled?.path ?? (source as string);
  try {
    const index = await TarIndex.open(path, { signal: options.signal, operation: OPERATION });
    const archive = new ArchiveFile(index);
    const location = index.locate("manifest.json", OPERATION, "manifest.json");
    const maxBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_JSON_BYTES;
    const bytes = await archive.bytes(location, maxBytes, OPERATION, "manifest.json");
    const descriptors = parseManifestJson(bytes, { maxBytes, operation: OPERATION });
    return new OpenedTarball(archive, descriptors, options, spooled?.directory);
  } catch (error) {
    if (spooled) await rm(spooled.directory, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The image in the tarball at `path` with tag `tag`, or its only image (go-containerregistry's
 * tarball.ImageFromPath). The file is read in place whenever the image is read.
 */
export async function imageFromTarball(
  path: string,
  options: OpenTarballOptions & { tag?: ReferenceInput } = {},
): Promise<Image> {
  if (typeof path !== "string") {
    throw invalidArgument(
      "imageFromTarball reads a file path; open a stream with openTarball and close it after use",
      OPERATION,
    );
  }
  const tarball = await openTarball(path, options);
  return tarball.image({ tag: options.tag, signal: options.signal });
}
