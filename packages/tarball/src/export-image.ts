import { pipeline, Transform, type TransformCallback } from "node:stream";
import { type Image, isLayer, type Layer, OciError } from "@hoist/oci";
import { ancestorsOf, baseOf, joinPath, parentOf, symlinkTarget } from "./entry-path.js";
import { invalidArgument, quote, TarballError } from "./errors.js";
import { type OutputTarget, openOutput } from "./output.js";
import type { Progress } from "./progress.js";
import { type LayerTarEntry, readLayerTar } from "./read-layer-tar.js";
import { type EntryHeader, TarWriter } from "./tar-writer.js";
import { STORED_COMPRESSION } from "./tarball-image.js";

export interface ExportOptions {
  signal?: AbortSignal;
  /** Called as bytes are written; `total` is unknown (it depends on what whiteouts remove). */
  onProgress?: (progress: Progress) => void;
  /**
   * Cap on the uncompressed bytes read from all layers together; more fails with
   * `HOIST_TARBALL_DECOMPRESSION_LIMIT`. Default: 64 GiB.
   */
  maxUncompressedBytes?: number;
  /**
   * Cap on how much larger a layer may grow when decompressed than its compressed size
   * (checked once it passes 64 MiB, so small sparse layers pass). Default: 512.
   */
  maxCompressionRatio?: number;
  /**
   * What to do with a relative symlink whose target climbs above the root (`a -> ../../etc`):
   * `"error"` (default) fails with `HOIST_TARBALL_UNSAFE_PATH`; `"skip"` leaves it out, as
   * crane export does. Absolute targets are kept either way: inside the image they resolve
   * against its own root.
   */
  unsafeSymlinks?: "error" | "skip";
  /** End a stream target when done. Default: true. Ignored for paths. */
  end?: boolean;
}

/** What an export wrote. */
export interface ExportResult {
  /** Entries written to the flattened tar (0 for a raw single-blob export). */
  entries: number;
  /** Bytes written. */
  bytes: number;
}

const OPERATION = "export image";
const GiB = 1024 * 1024 * 1024;
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 64 * GiB;
export const DEFAULT_MAX_COMPRESSION_RATIO = 512;
const RATIO_FLOOR = 64 * 1024 * 1024;
const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

interface Limits {
  maxBytes: number;
  maxRatio: number;
  /** Uncompressed bytes read so far, across layers. */
  read: number;
}

// Counts decompressed bytes as they arrive and stops the read at the caps, before a bomb can
// fill memory or disk.
class DecompressionLimit extends Transform {
  readonly #limits: Limits;
  readonly #compressedSize: number | undefined;
  readonly #subject: string;
  #layerBytes = 0;

  constructor(limits: Limits, compressedSize: number | undefined, subject: string) {
    super();
    this.#limits = limits;
    this.#compressedSize = compressedSize;
    this.#subject = subject;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const limits = this.#limits;
    limits.read += chunk.length;
    this.#layerBytes += chunk.length;
    if (limits.read > limits.maxBytes) {
      callback(
        new TarballError(
          `the image's layers decompress to more than the ${limits.maxBytes} bytes allowed (stopped in ${this.#subject}); raise maxUncompressedBytes if the image is really that large`,
          { code: "HOIST_TARBALL_DECOMPRESSION_LIMIT", operation: OPERATION },
        ),
      );
      return;
    }
    const compressed = this.#compressedSize;
    if (
      compressed !== undefined &&
      this.#layerBytes > RATIO_FLOOR &&
      this.#layerBytes > compressed * limits.maxRatio
    ) {
      callback(
        new TarballError(
          `${this.#subject} decompresses to more than ${limits.maxRatio} times its ${compressed} compressed bytes: it looks like a decompression bomb; raise maxCompressionRatio if it is genuine`,
          { code: "HOIST_TARBALL_DECOMPRESSION_LIMIT", operation: OPERATION },
        ),
      );
      return;
    }
    callback(null, chunk);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (typeof result !== "number" || Number.isNaN(result) || result <= 0) {
    throw invalidArgument(`${name} must be a positive number, got ${quote(value)}`, OPERATION);
  }
  return result;
}

// The compressed size to measure a layer's growth against, when it is decompressed at all.
async function compressedSizeOf(
  layer: Layer,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  const stored = (layer as Partial<Record<typeof STORED_COMPRESSION, string>>)[STORED_COMPRESSION];
  // A tarball layer stored uncompressed is read as is: nothing is decompressed.
  if (stored === "none") return undefined;
  try {
    return await layer.size({ signal });
  } catch (error) {
    // A streamed layer's size is known only after it was read; the byte cap still applies.
    if (OciError.is(error) && error.code === "HOIST_OCI_NOT_COMPUTED") return undefined;
    throw error;
  }
}

function unsafe(message: string, input: string): TarballError {
  return new TarballError(message, {
    code: "HOIST_TARBALL_UNSAFE_PATH",
    operation: OPERATION,
    input,
  });
}

// The state of a flatten, walking layers from the top (go-containerregistry's mutate.Extract):
// the first layer to mention a path wins; whiteouts hide the path in lower layers; opaque
// markers hide a directory's lower contents; a non-directory hides everything beneath it.
class Flattener {
  /** Paths decided by an upper layer: true hides everything beneath (a file, a whiteout). */
  readonly #seen = new Map<string, boolean>();
  /** Directories implied by entries already written (overlay: an upper directory wins). */
  readonly #impliedDirectories = new Set<string>();
  readonly #opaque = new Set<string>();
  /** Symlinks written; nothing may be written beneath one. */
  readonly #symlinks = new Set<string>();
  readonly #unsafeSymlinks: "error" | "skip";

  constructor(unsafeSymlinks: "error" | "skip") {
    this.#unsafeSymlinks = unsafeSymlinks;
  }

  #hiddenByUpper(name: string): boolean {
    for (const ancestor of ancestorsOf(name)) {
      if (this.#seen.get(ancestor) === true || this.#opaque.has(ancestor)) return true;
    }
    return this.#opaque.has(".") && name !== ".";
  }

  #beneathSymlink(
    name: string,
    symlinks: ReadonlySet<string> = this.#symlinks,
  ): string | undefined {
    for (const ancestor of ancestorsOf(name)) if (symlinks.has(ancestor)) return ancestor;
    return undefined;
  }

  /** Processes one layer's entries; `write` is called for the ones that survive. */
  async layer(
    entries: AsyncIterable<LayerTarEntry>,
    subject: string,
    write: (header: EntryHeader, entry: LayerTarEntry) => Promise<void>,
  ): Promise<void> {
    // A layer's opaque markers hide only lower layers, so they apply after the layer.
    const opaqueHere: string[] = [];
    // Symlinks of this layer: an entry beneath one in the same layer is the classic
    // symlink-then-write trick. (Beneath an upper layer's symlink, an entry is merely hidden.)
    const layerSymlinks = new Set<string>();
    for await (const entry of entries) {
      const trick = this.#beneathSymlink(entry.name, layerSymlinks);
      if (trick) {
        throw unsafe(
          `refusing ${quote(entry.rawName)} in ${subject}: it lies beneath the symlink ${quote(trick)} of the same layer, so extracting it would write through the link`,
          entry.rawName,
        );
      }
      if (entry.type === "symlink") layerSymlinks.add(entry.name);
      const base = baseOf(entry.name);
      const directory = parentOf(entry.name);
      if (base === OPAQUE) {
        opaqueHere.push(directory);
        continue;
      }
      const whiteout = base.startsWith(WHITEOUT);
      // A whiteout must name an entry: ".wh.", ".wh.." and ".wh..." would name the directory
      // itself or its parent. A root entry that is not a directory means nothing either.
      if (whiteout && [".wh.", ".wh..", ".wh..."].includes(base)) continue;
      if (entry.name === "." && entry.type !== "directory") continue;
      const name = whiteout ? joinPath(directory, base.slice(WHITEOUT.length)) : entry.name;
      if (this.#seen.has(name) && !whiteout) continue;
      if (this.#hiddenByUpper(name)) continue;
      // An upper layer put files beneath this path, so it is a directory there: a lower
      // non-directory here is hidden.
      if (!whiteout && entry.type !== "directory" && this.#impliedDirectories.has(name)) continue;
      if (whiteout) {
        this.#seen.set(name, true);
        continue;
      }
      const through = this.#beneathSymlink(name);
      if (through) {
        throw unsafe(
          `refusing ${quote(entry.rawName)} in ${subject}: it lies beneath the symlink ${quote(through)}, so extracting it would write through the link`,
          entry.rawName,
        );
      }
      let linkname = entry.linkname;
      if (entry.type === "link") {
        const via = this.#beneathSymlink(linkname) ?? this.#beneathSymlink(linkname, layerSymlinks);
        if (via) {
          throw unsafe(
            `refusing hard link ${quote(entry.rawName)} in ${subject}: its target ${quote(linkname)} lies beneath the symlink ${quote(via)}`,
            entry.rawName,
          );
        }
      } else if (entry.type === "symlink") {
        if (linkname === "") {
          throw unsafe(
            `refusing symlink ${quote(entry.rawName)} in ${subject}: it has no target`,
            entry.rawName,
          );
        }
        if (symlinkTarget(name, linkname) === undefined) {
          if (this.#unsafeSymlinks === "skip") continue;
          throw unsafe(
            `refusing symlink ${quote(entry.rawName)} -> ${quote(linkname)} in ${subject}: its target climbs above the image's root; pass unsafeSymlinks: "skip" to leave such links out as crane export does`,
            entry.rawName,
          );
        }
      } else {
        linkname = "";
      }
      this.#seen.set(name, entry.type !== "directory");
      for (const ancestor of ancestorsOf(name)) this.#impliedDirectories.add(ancestor);
      if (entry.type === "symlink") this.#symlinks.add(name);
      if (entry.type === "other") continue;
      await write(
        {
          name: entry.type === "directory" ? `${name === "." ? "." : name}/` : name,
          type: entry.type,
          size: entry.type === "file" ? entry.size : 0,
          mode: entry.mode,
          mtime: entry.mtime,
          uid: entry.uid,
          gid: entry.gid,
          uname: entry.uname,
          gname: entry.gname,
          linkname: linkname || undefined,
          devmajor: entry.devmajor,
          devminor: entry.devminor,
          pax: Object.keys(entry.pax).length > 0 ? entry.pax : undefined,
        },
        entry,
      );
    }
    for (const directory of opaqueHere) this.#opaque.add(directory);
  }
}

/**
 * Writes the image's filesystem as one tar (crane export): layers are flattened from the top,
 * applying whiteouts (`.wh.<name>`) and opaque directories (`.wh..wh..opq`). An image of a
 * single layer whose media type is not a layer type is written raw, as crane does. Entries
 * that would land outside the root fail with `HOIST_TARBALL_UNSAFE_PATH`: absolute names, `..`
 * above the root, hard links out of the tree, entries beneath a symlink, and (unless
 * `unsafeSymlinks: "skip"`) relative symlinks out of the tree. Every layer is read to its end so
 * its digest is verified; decompression is capped. A path target is written under a temporary
 * name and renamed when complete, so a failed export leaves nothing under the target's name.
 */
export async function exportImage(
  image: Image,
  target: OutputTarget,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const { signal, onProgress } = options;
  const limits: Limits = {
    maxBytes: positive(
      options.maxUncompressedBytes,
      DEFAULT_MAX_UNCOMPRESSED_BYTES,
      "maxUncompressedBytes",
    ),
    maxRatio: positive(
      options.maxCompressionRatio,
      DEFAULT_MAX_COMPRESSION_RATIO,
      "maxCompressionRatio",
    ),
    read: 0,
  };
  const unsafeSymlinks = options.unsafeSymlinks ?? "error";
  if (unsafeSymlinks !== "error" && unsafeSymlinks !== "skip") {
    throw invalidArgument(
      `unsafeSymlinks must be "error" or "skip", got ${quote(unsafeSymlinks)}`,
      OPERATION,
    );
  }
  if (typeof image !== "object" || image === null || typeof image.layers !== "function") {
    throw invalidArgument("expected an Image", OPERATION);
  }
  signal?.throwIfAborted();
  const layers = await image.layers({ signal });
  const output = await openOutput(target, { operation: OPERATION, end: options.end });
  let bytes = 0;
  const report = (count: number) => {
    bytes += count;
    onProgress?.({ complete: bytes, total: undefined });
  };
  try {
    const single = layers.length === 1 ? (layers[0] as Layer) : undefined;
    if (single && !isLayer(await single.mediaType({ signal }))) {
      // A single blob that is not a filesystem (a wasm module, a chart): its bytes are the export.
      const limited = pipeline(
        await single.uncompressed({ signal }),
        new DecompressionLimit(limits, undefined, "the image's only blob"),
        () => {},
      );
      for await (const chunk of limited as AsyncIterable<Uint8Array>) {
        await output.write(chunk);
        report(chunk.byteLength);
      }
      signal?.throwIfAborted();
      await output.commit();
      return { entries: 0, bytes };
    }
    const writer = new TarWriter(output, { onBytes: report });
    const onAbort = () => writer.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const flattener = new Flattener(unsafeSymlinks);
    let entries = 0;
    try {
      for (let index = layers.length - 1; index >= 0; index--) {
        signal?.throwIfAborted();
        const layer = layers[index] as Layer;
        const subject = `layer ${index + 1} of ${layers.length}`;
        const compressedSize = await compressedSizeOf(layer, signal);
        const limited = pipeline(
          await layer.uncompressed({ signal }),
          new DecompressionLimit(limits, compressedSize, subject),
          () => {},
        );
        await flattener.layer(
          readLayerTar(limited, { signal, operation: OPERATION, subject }),
          subject,
          async (header, entry) => {
            entries++;
            await writer.entry(header, (header.size ?? 0) > 0 ? entry.body : undefined);
          },
        );
      }
      await writer.finish();
    } catch (error) {
      writer.abort(error);
      throw signal?.aborted ? signal.reason : error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    await output.commit();
    return { entries, bytes };
  } catch (error) {
    await output.abort();
    throw error;
  }
}
