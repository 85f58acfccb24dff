import { pipeline, Readable } from "node:stream";
import {
  type Descriptor,
  Hash,
  type Image,
  isDistributable,
  type Layer,
  MediaType,
  OciError,
  VerifyingStream,
} from "@hoist/oci";
import type { TarballDescriptor } from "./docker-manifest.js";
import { invalidArgument, quote } from "./errors.js";
import { legacyLayout } from "./legacy.js";
import { type OutputTarget, openOutput } from "./output.js";
import type { Progress } from "./progress.js";
import { type ReferenceInput, repoTagOf } from "./repo-tags.js";
import { Staging } from "./staging.js";
import { paddedSize } from "./tar-header.js";
import { TarWriter } from "./tar-writer.js";
import { STORED_COMPRESSION } from "./tarball-image.js";

/** An image to write and the references to record for it. */
export interface TarballWriteEntry {
  image: Image;
  /**
   * Tags (and digests) the image is saved under. Tags become `RepoTags` as go-containerregistry
   * writes them (`ubuntu` becomes `ubuntu:latest`); digest references add no tag. Default: none.
   */
  refs?: readonly ReferenceInput[];
}

export interface WriteTarballOptions {
  signal?: AbortSignal;
  /** Called as bytes are written; `total` is known unless a layer's size is (streamed layers). */
  onProgress?: (progress: Progress) => void;
  /**
   * The form layer blobs are written in. `"compressed"` (default, as go-containerregistry):
   * each layer's blob as it is (`<hex>.tar.gz`, `.tar` or `.tar.zst`). `"uncompressed"`: the
   * layer tar (`<diffID hex>.tar`), as `docker save` and skopeo write; each is staged in a
   * temporary file first because a tar header needs its size.
   */
  layers?: "compressed" | "uncompressed";
  /** Also write the pre-1.10 layout: `repositories` and one directory per v1 layer ID. */
  legacy?: boolean;
  /** Where streamed and uncompressed layers are staged. Default: the system temp directory. */
  tempDirectory?: string;
  /** End a stream target when done. Default: true. Ignored for paths. */
  end?: boolean;
}

const OPERATION = "write tarball";

interface Group {
  image: Image;
  repoTags: string[];
}

interface PlannedBlob {
  name: string;
  size: number;
  open: (signal: AbortSignal | undefined) => Promise<Readable> | Readable;
}

interface PlannedImage {
  descriptor: TarballDescriptor;
  layerDigests: Hash[];
  rawConfig: Uint8Array;
}

function layerExtension(mediaType: string): string {
  switch (mediaType) {
    case MediaType.OCI_LAYER_ZSTD:
    case MediaType.OCI_NONDISTRIBUTABLE_LAYER_ZSTD:
      return ".tar.zst";
    case MediaType.OCI_LAYER:
    case MediaType.OCI_NONDISTRIBUTABLE_LAYER:
    case MediaType.DOCKER_LAYER_UNCOMPRESSED:
      return ".tar";
    default:
      // What Docker has always written: anything else is a gzipped tar.
      return ".tar.gz";
  }
}

function isImage(value: unknown): value is Image {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Image).layers === "function" &&
    typeof (value as Image).rawConfigFile === "function"
  );
}

function groupEntries(images: Image | TarballWriteEntry | readonly TarballWriteEntry[]): Group[] {
  const list: readonly TarballWriteEntry[] = isImage(images)
    ? [{ image: images }]
    : Array.isArray(images)
      ? images
      : [images as TarballWriteEntry];
  if (list.length === 0) throw invalidArgument("no images to write; give at least one", OPERATION);
  // Entries for the same Image object merge, as go-containerregistry's map from reference to
  // image does; one tag may name only one image.
  const groups = new Map<Image, Group>();
  const owners = new Map<string, Image>();
  for (const [index, entry] of list.entries()) {
    if (typeof entry !== "object" || entry === null || !isImage(entry.image)) {
      throw invalidArgument(`images[${index}] is not { image: Image, refs? }`, OPERATION);
    }
    const group = groups.get(entry.image) ?? { image: entry.image, repoTags: [] };
    groups.set(entry.image, group);
    for (const ref of entry.refs ?? []) {
      const repoTag = repoTagOf(ref, OPERATION);
      if (repoTag === undefined) continue;
      const owner = owners.get(repoTag);
      if (owner && owner !== entry.image) {
        throw invalidArgument(
          `tag ${quote(repoTag)} is given to two different images; a tag names one image`,
          OPERATION,
          repoTag,
        );
      }
      owners.set(repoTag, entry.image);
      if (!group.repoTags.includes(repoTag)) group.repoTags.push(repoTag);
    }
  }
  return [...groups.values()];
}

function notComputed(error: unknown): boolean {
  return OciError.is(error) && error.code === "HOIST_OCI_NOT_COMPUTED";
}

/** Bytes a tar entry of `size` takes: its header and its padded data. */
function entryBytes(size: number): number {
  return 512 + paddedSize(size);
}

/**
 * Writes images as a `docker save` tarball that `docker load` and skopeo's `docker-archive:`
 * read (go-containerregistry's tarball.MultiRefWrite): for each image its config
 * (`<hex>.json`) and layers (deduplicated across images), then `manifest.json`
 * (`[{Config, RepoTags, Layers, LayerSources}]`, sorted by tags), and with `legacy` the
 * pre-1.10 files. Layers stream from their source into the archive with backpressure; only a
 * layer whose size is not known yet (a streamed layer) or that is written uncompressed is staged
 * in a temporary file. A path target is written under a temporary name and renamed when
 * complete. Returns the `manifest.json` entries written.
 */
export async function writeTarball(
  target: OutputTarget,
  images: Image | TarballWriteEntry | readonly TarballWriteEntry[],
  options: WriteTarballOptions = {},
): Promise<TarballDescriptor[]> {
  const { signal, onProgress } = options;
  const form = options.layers ?? "compressed";
  if (form !== "compressed" && form !== "uncompressed") {
    throw invalidArgument(
      `layers must be "compressed" or "uncompressed", got ${quote(form)}`,
      OPERATION,
    );
  }
  const groups = groupEntries(images);
  signal?.throwIfAborted();
  const staging = new Staging({ tempDirectory: options.tempDirectory, operation: OPERATION });
  try {
    // Plan everything before writing a byte, so the total is exact and nothing half-written
    // is left when an image cannot be read.
    const blobs = new Map<string, PlannedBlob>();
    const planned: PlannedImage[] = [];
    for (const group of groups) {
      planned.push(await planImage(group, { blobs, staging, form, signal }));
    }
    const descriptors = mergeDescriptors(planned.map((image) => image.descriptor));
    const manifestJson = Buffer.from(JSON.stringify(descriptors.map(toJson)), "utf8");
    const legacy = options.legacy
      ? legacyLayout(
          planned.map((image) => ({
            layerFiles: image.descriptor.Layers,
            layerDigests: image.layerDigests,
            rawConfig: image.rawConfig,
            repoTags: image.descriptor.RepoTags,
          })),
        )
      : undefined;

    let total = 1024 + entryBytes(manifestJson.byteLength);
    for (const blob of blobs.values()) total += entryBytes(blob.size);
    for (const file of legacy?.files ?? []) total += entryBytes(file.data.byteLength);
    total += (legacy?.symlinks.length ?? 0) * 512;
    let complete = 0;

    const output = await openOutput(target, { operation: OPERATION, end: options.end });
    const writer = new TarWriter(output, {
      onBytes: (count) => {
        complete += count;
        onProgress?.({ complete, total });
      },
    });
    const onAbort = () => writer.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (const blob of blobs.values()) {
        signal?.throwIfAborted();
        await writer.entry({ name: blob.name, size: blob.size }, await blob.open(signal));
      }
      for (const symlink of legacy?.symlinks ?? []) {
        await writer.entry({ name: symlink.name, type: "symlink", linkname: symlink.target });
      }
      for (const file of legacy?.files ?? []) {
        await writer.entry({ name: file.name, size: file.data.byteLength }, file.data);
      }
      await writer.entry({ name: "manifest.json", size: manifestJson.byteLength }, manifestJson);
      await writer.finish();
      signal?.throwIfAborted();
      await output.commit();
    } catch (error) {
      writer.abort(error);
      await output.abort();
      throw signal?.aborted ? signal.reason : error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return descriptors;
  } finally {
    await staging.cleanup();
  }
}

async function planImage(
  group: Group,
  context: {
    blobs: Map<string, PlannedBlob>;
    staging: Staging;
    form: "compressed" | "uncompressed";
    signal: AbortSignal | undefined;
  },
): Promise<PlannedImage> {
  const { blobs, staging, form, signal } = context;
  const image = group.image;
  const layers = await image.layers({ signal });
  const files: string[] = [];
  const digests: Hash[] = [];
  for (const layer of layers) {
    signal?.throwIfAborted();
    const blob =
      form === "uncompressed" || (await onlyUncompressed(layer, signal))
        ? await stageUncompressed(layer, staging, signal)
        : await planCompressed(layer, staging, signal);
    files.push(blob.name);
    digests.push(blob.digest);
    if (!blobs.has(blob.name)) blobs.set(blob.name, blob);
  }
  // After the layers: an image with streamed layers knows its config only once they were read.
  const rawConfig = await image.rawConfigFile({ signal });
  const configName = Hash.compute(rawConfig);
  const configFile = `${configName.hex}.json`;
  if (!blobs.has(configFile)) {
    blobs.set(configFile, {
      name: configFile,
      size: rawConfig.byteLength,
      open: () => bytesStream(rawConfig),
    });
  }
  const descriptor: TarballDescriptor = {
    Config: configFile,
    RepoTags: [...group.repoTags],
    Layers: files,
  };
  const sources = await layerSources(image, layers, signal);
  if (sources) descriptor.LayerSources = sources;
  return { descriptor, layerDigests: digests, rawConfig };
}

// A foreign layer read from a tarball has only its tar there, not its blob: it is written as the
// tar, with its descriptor in LayerSources, as docker save writes foreign layers.
async function onlyUncompressed(layer: Layer, signal: AbortSignal | undefined): Promise<boolean> {
  const stored = (layer as Partial<Record<typeof STORED_COMPRESSION, string>>)[STORED_COMPRESSION];
  return stored === "none" && !isDistributable(await layer.mediaType({ signal }));
}

function bytesStream(bytes: Uint8Array): Readable {
  return Readable.from([bytes], { objectMode: false });
}

async function planCompressed(
  layer: Layer,
  staging: Staging,
  signal: AbortSignal | undefined,
): Promise<PlannedBlob & { digest: Hash }> {
  let digest: Hash;
  let size: number;
  try {
    digest = await layer.digest({ signal });
    size = await layer.size({ signal });
  } catch (error) {
    if (!notComputed(error)) throw error;
    // A streamed layer: read it once into a staged file, which also computes its digests.
    const staged = await staging.stage(await layer.compressed({ signal }), [], signal);
    digest = await layer.digest({ signal });
    size = await layer.size({ signal });
    const name = `${digest.hex}${layerExtension(await layer.mediaType({ signal }))}`;
    return {
      name,
      size,
      digest,
      open: () =>
        pipeline(
          staging.read(staged.path),
          new VerifyingStream({ digest, size, operation: OPERATION, subject: `layer ${digest}` }),
          () => {},
        ),
    };
  }
  const name = `${digest.hex}${layerExtension(await layer.mediaType({ signal }))}`;
  return {
    name,
    size,
    digest,
    // The bytes named by the digest must be the bytes written: verified on the way in, and
    // never more than the header announced.
    open: async (openSignal) => {
      const source = await layer.compressed({ signal: openSignal });
      const verify = new VerifyingStream({
        digest,
        size,
        operation: OPERATION,
        subject: `layer ${digest}`,
      });
      return pipeline(source, verify, () => {});
    },
  };
}

async function stageUncompressed(
  layer: Layer,
  staging: Staging,
  signal: AbortSignal | undefined,
): Promise<PlannedBlob & { digest: Hash }> {
  let diffID: Hash | undefined;
  try {
    diffID = await layer.diffID({ signal });
  } catch (error) {
    if (!notComputed(error)) throw error;
  }
  const stages = diffID
    ? [
        new VerifyingStream({
          digest: diffID,
          operation: OPERATION,
          subject: `layer ${diffID} (uncompressed)`,
        }),
      ]
    : [];
  const staged = await staging.stage(await layer.uncompressed({ signal }), stages, signal);
  diffID ??= await layer.diffID({ signal });
  const digest = diffID;
  return {
    name: `${digest.hex}.tar`,
    size: staged.size,
    digest,
    open: () => staging.read(staged.path),
  };
}

// Non-distributable (foreign) layers keep their descriptor, keyed by diffID, so docker load and
// later pushes know where the blob lives.
async function layerSources(
  image: Image,
  layers: Layer[],
  signal: AbortSignal | undefined,
): Promise<Record<string, Descriptor> | undefined> {
  let sources: Record<string, Descriptor> | undefined;
  let manifestLayers: Descriptor[] | undefined;
  for (const [index, layer] of layers.entries()) {
    const mediaType = await layer.mediaType({ signal });
    if (isDistributable(mediaType)) continue;
    manifestLayers ??= (await image.manifest({ signal })).layers;
    const descriptor = manifestLayers[index] ?? {
      mediaType,
      size: await layer.size({ signal }),
      digest: await layer.digest({ signal }),
    };
    sources ??= {};
    sources[(await layer.diffID({ signal })).toString()] = descriptor;
  }
  return sources;
}

// Two Image objects with the same config and layers are one image in the archive.
function mergeDescriptors(descriptors: TarballDescriptor[]): TarballDescriptor[] {
  const merged = new Map<string, TarballDescriptor>();
  for (const descriptor of descriptors) {
    const key = JSON.stringify([descriptor.Config, descriptor.Layers]);
    const existing = merged.get(key);
    if (!existing) {
      merged.set(key, descriptor);
      continue;
    }
    for (const tag of descriptor.RepoTags) {
      if (!existing.RepoTags.includes(tag)) existing.RepoTags.push(tag);
    }
  }
  // Sorted by tags, as go-containerregistry sorts them, so the same input gives the same bytes.
  return [...merged.values()].sort((a, b) => {
    const left = a.RepoTags.join(",");
    const right = b.RepoTags.join(",");
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

function toJson(descriptor: TarballDescriptor): Record<string, unknown> {
  return {
    Config: descriptor.Config,
    // Go writes an untagged image's tags as null; docker load and skopeo expect that shape.
    RepoTags: descriptor.RepoTags.length > 0 ? descriptor.RepoTags : null,
    Layers: descriptor.Layers,
    ...(descriptor.LayerSources ? { LayerSources: descriptor.LayerSources } : {}),
  };
}
