import { lstat, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  baseMediaType,
  type Descriptor,
  Hash,
  type IndexManifest,
  isImage,
  isIndex,
  type Manifest,
  OciError,
  parseIndexManifest,
  parseManifest,
  readDescriptorData,
  sniffManifestMediaType,
} from "@hoist/oci";
import { readBlobBytes } from "./blob-files.js";
import { errnoCode, ioError, LayoutError } from "./errors.js";
import { TEMP_PREFIX } from "./files.js";
import { safeBlobDirectory } from "./paths.js";
import { MAX_INDEX_DEPTH } from "./write-tree.js";

/** What {@link Layout.garbageCollect} did (or, with `dryRun`, would do). */
export interface GarbageCollectResult {
  /** Blobs removed: not reachable from index.json. */
  removed: Array<{ digest: Hash; size: number }>;
  /** Their total size in bytes. */
  removedBytes: number;
  /** How many blobs were kept because index.json reaches them. */
  kept: number;
  /** Leftover temporary files of interrupted writes that were removed (file names). */
  removedTemporaryFiles: string[];
}

export interface GarbageCollectOptions {
  signal?: AbortSignal;
  /** Report what would be removed without removing anything. */
  dryRun?: boolean;
}

/** @internal */
export interface CollectContext {
  root: string;
  maxManifestBytes: number;
  index: IndexManifest;
  signal?: AbortSignal;
  dryRun: boolean;
}

const OPERATION = "garbage collect";
const DIGEST_ALGORITHMS = new Set(["sha256", "sha512"]);

function incomplete(descriptor: Descriptor, reason: string, cause?: unknown): LayoutError {
  return new LayoutError(
    `cannot tell which blobs are in use: manifest ${descriptor.digest} ${reason}; nothing was removed (repair or remove the entry that points at it, then collect again)`,
    {
      code: "HOIST_LAYOUT_GC_INCOMPLETE",
      operation: OPERATION,
      digest: String(descriptor.digest),
      cause,
    },
  );
}

// Media types that may hold a manifest without saying so: custom artifact manifests are JSON.
function mayBeManifest(mediaType: string): boolean {
  const base = baseMediaType(mediaType);
  return base === "application/json" || base.endsWith("+json");
}

async function readDocument(
  context: CollectContext,
  descriptor: Descriptor,
): Promise<Uint8Array | undefined> {
  const inline = readDescriptorData(descriptor);
  if (inline) return inline;
  if (descriptor.size > context.maxManifestBytes) {
    throw incomplete(
      descriptor,
      `is ${descriptor.size} bytes, over the ${context.maxManifestBytes}-byte manifest limit`,
    );
  }
  try {
    return await readBlobBytes(context.root, descriptor.digest, {
      size: descriptor.size,
      maxBytes: context.maxManifestBytes,
      operation: OPERATION,
      signal: context.signal,
    });
  } catch (error) {
    if (LayoutError.is(error) && error.code === "HOIST_LAYOUT_BLOB_NOT_FOUND") return undefined;
    throw error;
  }
}

/** Adds to `keep` every digest reachable from `descriptor`. */
async function mark(
  context: CollectContext,
  descriptor: Descriptor,
  keep: Set<string>,
  depth: number,
  required: boolean,
): Promise<void> {
  const key = String(descriptor.digest);
  if (keep.has(key)) return;
  keep.add(key);
  const { mediaType } = descriptor;
  const known = isIndex(mediaType) || isImage(mediaType);
  if (!known && !mayBeManifest(mediaType)) return;
  if (depth > MAX_INDEX_DEPTH)
    throw incomplete(descriptor, `is nested more than ${MAX_INDEX_DEPTH} levels deep`);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readDocument(context, descriptor);
  } catch (error) {
    if (context.signal?.aborted) throw context.signal.reason;
    throw incomplete(
      descriptor,
      `could not be read (${OciError.is(error) || LayoutError.is(error) ? error.message : String(error)})`,
      error,
    );
  }
  if (bytes === undefined) {
    // A missing subject is normal (a signature stored without its image); a missing manifest that
    // index.json lists hides the blobs it references.
    if (known && required) throw incomplete(descriptor, "is missing from blobs/");
    return;
  }
  let kind = isIndex(mediaType) ? "index" : isImage(mediaType) ? "image" : undefined;
  if (!kind) {
    const sniffed = sniffJson(bytes);
    if (sniffed === undefined) return;
    kind = isIndex(sniffed) ? "index" : isImage(sniffed) ? "image" : undefined;
    if (!kind) return;
  }
  const children: Array<{ descriptor: Descriptor; required: boolean }> = [];
  try {
    if (kind === "index") {
      const index = parseIndexManifest(bytes, { maxBytes: context.maxManifestBytes });
      for (const child of index.manifests) children.push({ descriptor: child, required: true });
      if (index.subject) children.push({ descriptor: index.subject, required: false });
    } else {
      const manifest: Manifest = parseManifest(bytes, { maxBytes: context.maxManifestBytes });
      keep.add(String(manifest.config.digest));
      for (const layer of manifest.layers) keep.add(String(layer.digest));
      if (manifest.subject) children.push({ descriptor: manifest.subject, required: false });
    }
  } catch (error) {
    if (!known) return; // JSON of some other kind: an opaque blob after all.
    throw incomplete(
      descriptor,
      `is not a valid ${kind} (${OciError.is(error) ? error.message : String(error)})`,
      error,
    );
  }
  for (const child of children) {
    await mark(context, child.descriptor, keep, depth + 1, child.required);
  }
}

function sniffJson(bytes: Uint8Array): string | undefined {
  try {
    return sniffManifestMediaType(bytes);
  } catch {
    return undefined;
  }
}

/** @internal Removes blobs that index.json does not reach; the caller holds the layout alone. */
export async function collectGarbage(context: CollectContext): Promise<GarbageCollectResult> {
  const keep = new Set<string>();
  for (const descriptor of context.index.manifests) {
    await mark(context, descriptor, keep, 0, true);
  }
  context.signal?.throwIfAborted();
  const result: GarbageCollectResult = {
    removed: [],
    removedBytes: 0,
    kept: 0,
    removedTemporaryFiles: [],
  };
  const blobs = await safeBlobDirectory(context.root, undefined, {
    create: false,
    operation: OPERATION,
  });
  if (blobs !== undefined) {
    for (const algorithm of await list(blobs)) {
      const directory = join(blobs, algorithm);
      // Only digest-named files in the directories of known algorithms are blobs; anything else
      // is not this package's to delete.
      if (!DIGEST_ALGORITHMS.has(algorithm)) continue;
      const info = await lstat(directory);
      if (!info.isDirectory() && !info.isSymbolicLink()) continue;
      await safeBlobDirectory(context.root, algorithm, { create: false, operation: OPERATION });
      for (const name of await list(directory)) {
        const digest = `${algorithm}:${name}`;
        if (!Hash.isValid(digest)) continue;
        if (keep.has(digest)) {
          result.kept++;
          continue;
        }
        const path = join(directory, name);
        const entry = await lstat(path);
        if (entry.isDirectory()) continue;
        context.signal?.throwIfAborted();
        if (!context.dryRun) await remove(path);
        result.removed.push({ digest: Hash.parse(digest), size: entry.size });
        result.removedBytes += entry.size;
      }
    }
  }
  for (const name of await list(context.root)) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    if (!context.dryRun) await remove(join(context.root, name));
    result.removedTemporaryFiles.push(name);
  }
  result.removed.sort((a, b) => String(a.digest).localeCompare(String(b.digest)));
  return result;
}

async function list(directory: string): Promise<string[]> {
  try {
    return (await readdir(directory)).sort();
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", OPERATION, directory);
  }
}

async function remove(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return;
    throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", OPERATION, path);
  }
}
