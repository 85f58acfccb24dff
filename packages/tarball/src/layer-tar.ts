import type { Readable } from "node:stream";
import {
  appendLayers,
  emptyImage,
  type Image,
  type Layer,
  type LayerOptions,
  layerFromBytes,
  layerFromFile,
  layerFromStream,
  MediaType,
} from "@hoist/oci";
import { pack } from "tar-stream";
import { safeEntryName } from "./entry-path.js";
import { invalidArgument, quote } from "./errors.js";
import { EPOCH } from "./tar-writer.js";

/** One entry of a file map: its content, or a full description. */
export interface FileSpec {
  /** Default: "file" ("directory" for names ending in "/"). */
  type?: "file" | "directory" | "symlink" | "link";
  /** A file's bytes (strings are UTF-8). Default: empty. */
  content?: string | Uint8Array;
  /** Permission bits. Default: 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  mode?: number;
  /** A symlink's target (as is) or a hard link's target (a path in the same tar). */
  linkname?: string;
  uid?: number;
  gid?: number;
}

/** Paths to contents: `{ "etc/motd": "hello", "bin/": { type: "directory" } }`. */
export type FileMap =
  | Readonly<Record<string, string | Uint8Array | FileSpec>>
  | ReadonlyMap<string, string | Uint8Array | FileSpec>;

/** Options of the layer builders: Docker (default, as crane) or OCI media types. */
export interface FilesLayerOptions {
  /** Default: "docker" (`…rootfs.diff.tar.gzip`, as crane.Layer); "oci" for OCI types. */
  format?: "docker" | "oci";
  /** gzip level 0–9 for the layer blob. Default: 6. */
  gzipLevel?: number;
}

const OPERATION = "create layer tar";

function entriesOf(files: FileMap): Array<[string, string | Uint8Array | FileSpec]> {
  if (files instanceof Map) return [...files.entries()];
  if (typeof files !== "object" || files === null) {
    throw invalidArgument("expected a file map: an object or Map of paths to contents", OPERATION);
  }
  return Object.entries(files);
}

function spec(value: string | Uint8Array | FileSpec, name: string): FileSpec {
  if (typeof value === "string" || value instanceof Uint8Array) return { content: value };
  if (typeof value !== "object" || value === null) {
    throw invalidArgument(
      `the content of ${quote(name)} must be a string, bytes or a FileSpec`,
      OPERATION,
    );
  }
  return value;
}

/**
 * A reproducible tar of a file map (crane's `Layer(filemap)` contents): entries sorted by name,
 * times at the Unix epoch, owners 0, fixed modes; the same map always gives the same bytes.
 * Names must be relative and stay inside the root (`HOIST_TARBALL_UNSAFE_PATH` otherwise); so
 * must hard link targets. Directories are not implied: list the ones you want.
 */
export async function createLayerTar(files: FileMap): Promise<Uint8Array> {
  const prepared = new Map<string, { spec: FileSpec; content: Uint8Array }>();
  for (const [rawName, value] of entriesOf(files)) {
    const given = spec(value, rawName);
    const name = safeEntryName(rawName, OPERATION);
    if (name === ".") throw invalidArgument(`${quote(rawName)} names the root`, OPERATION, rawName);
    if (prepared.has(name)) {
      throw invalidArgument(
        `two entries clean to the same name ${quote(name)}`,
        OPERATION,
        rawName,
      );
    }
    const type = given.type ?? (rawName.endsWith("/") ? "directory" : "file");
    if (!["file", "directory", "symlink", "link"].includes(type)) {
      throw invalidArgument(`unknown entry type ${quote(type)} for ${quote(rawName)}`, OPERATION);
    }
    if ((type === "symlink" || type === "link") && !given.linkname) {
      throw invalidArgument(`${type} ${quote(rawName)} needs a linkname`, OPERATION, rawName);
    }
    if (type === "link") safeEntryName(given.linkname as string, OPERATION, "hard link target");
    const content =
      typeof given.content === "string"
        ? Buffer.from(given.content, "utf8")
        : (given.content ?? new Uint8Array());
    if (type !== "file" && content.byteLength > 0) {
      throw invalidArgument(`${type} ${quote(rawName)} cannot have content`, OPERATION, rawName);
    }
    prepared.set(name, { spec: { ...given, type }, content });
  }
  const archive = pack();
  const names = [...prepared.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const { spec: entry, content } = prepared.get(name) as { spec: FileSpec; content: Uint8Array };
    const type = entry.type ?? "file";
    const defaultMode = type === "directory" ? 0o755 : type === "symlink" ? 0o777 : 0o644;
    archive.entry(
      {
        name: type === "directory" ? `${name}/` : name,
        type,
        mode: entry.mode ?? defaultMode,
        mtime: EPOCH,
        uid: entry.uid ?? 0,
        gid: entry.gid ?? 0,
        linkname:
          type === "link" ? safeEntryName(entry.linkname as string, OPERATION) : entry.linkname,
      },
      Buffer.from(content),
    );
  }
  archive.finalize();
  const chunks: Uint8Array[] = [];
  for await (const chunk of archive as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function layerOptions(options: FilesLayerOptions): LayerOptions {
  const format = options.format ?? "docker";
  if (format !== "docker" && format !== "oci") {
    throw invalidArgument(`format must be "docker" or "oci", got ${quote(format)}`, OPERATION);
  }
  return {
    compression: "gzip",
    gzipLevel: options.gzipLevel,
    mediaType: format === "docker" ? MediaType.DOCKER_LAYER : MediaType.OCI_LAYER_GZIP,
  };
}

/** A gzipped layer of a file map (crane.Layer): see {@link createLayerTar}. */
export async function layerFromFiles(
  files: FileMap,
  options: FilesLayerOptions = {},
): Promise<Layer> {
  const layerOpts = layerOptions(options);
  return layerFromBytes(await createLayerTar(files), layerOpts);
}

/** An image of one layer holding a file map, on an empty base (crane.Image). */
export async function imageFromFiles(
  files: FileMap,
  options: FilesLayerOptions = {},
): Promise<Image> {
  const layer = await layerFromFiles(files, options);
  const mediaType =
    (options.format ?? "docker") === "docker" ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST;
  return appendLayers(emptyImage({ mediaType }), [layer]);
}

/**
 * A layer from a tar file (a path) or a tar stream, gzipped as go-containerregistry's
 * tarball.LayerFromFile does: an uncompressed tar becomes a gzip blob (Docker media type by
 * default), a gzipped one is kept. A stream can be read once (see `@hoist/oci`'s
 * `layerFromStream`).
 */
export function layerFromTar(
  source: string | Readable | AsyncIterable<Uint8Array>,
  options: FilesLayerOptions = {},
): Layer {
  const layerOpts = layerOptions(options);
  return typeof source === "string"
    ? layerFromFile(source, layerOpts)
    : layerFromStream(source, layerOpts);
}
