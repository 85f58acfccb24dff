import { mkdir, readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DEFAULT_MAX_MANIFEST_BYTES, type ImageIndex } from "@hoist/oci";
import { errnoCode, ioError, LayoutError, quote } from "./errors.js";
import { readCapped, writeFilesAtomic } from "./files.js";
import { emptyIndexJson, encodeIndexJson, readIndexJson } from "./index-file.js";
import { type Layout, LayoutImpl, type LayoutLimits, type LayoutReadOptions } from "./layout.js";
import { LAYOUT_FILE_CONTENT, MAX_LAYOUT_FILE_BYTES, parseLayoutFile } from "./layout-file.js";
import { INDEX_FILE, LAYOUT_FILE, safeBlobDirectory } from "./paths.js";
import { type WriteOptions, writeTree } from "./write-tree.js";

/** Options of {@link openLayout} and {@link createLayout}. */
export interface OpenLayoutOptions extends LayoutLimits, LayoutReadOptions {}

function checkLimits(options: LayoutLimits, operation: string): void {
  for (const name of ["maxManifestBytes", "maxConfigBytes"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw new LayoutError(`${name} must be a positive integer, got ${String(value)}`, {
        code: "HOIST_LAYOUT_INVALID_ARGUMENT",
        operation,
      });
    }
  }
}

function checkPath(path: unknown, operation: string): string {
  if (typeof path !== "string" || path === "") {
    throw new LayoutError("a layout path must be a non-empty string", {
      code: "HOIST_LAYOUT_INVALID_ARGUMENT",
      operation,
    });
  }
  return resolve(path);
}

async function isDirectory(path: string, operation: string): Promise<boolean | undefined> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", operation, path);
  }
}

async function checkLayout(root: string, options: OpenLayoutOptions, operation: string) {
  const layoutFile = join(root, LAYOUT_FILE);
  const read = await readCapped(layoutFile, MAX_LAYOUT_FILE_BYTES, {
    operation,
    signal: options.signal,
  });
  if (read.kind === "missing") {
    throw new LayoutError(
      `${quote(root)} is not an OCI image layout: it has no oci-layout file (create one with createLayout)`,
      { code: "HOIST_LAYOUT_NOT_A_LAYOUT", operation, path: layoutFile },
    );
  }
  if (read.kind === "too-large") {
    throw new LayoutError(
      `${quote(layoutFile)} is ${read.size} bytes; an oci-layout file is a few dozen`,
      {
        code: "HOIST_LAYOUT_INVALID_LAYOUT_FILE",
        operation,
        path: layoutFile,
      },
    );
  }
  parseLayoutFile(read.bytes, layoutFile);
  await readIndexJson(root, {
    maxBytes: options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
    operation,
    signal: options.signal,
  });
}

/**
 * Opens an existing OCI image layout (go-containerregistry's `layout.FromPath`): checks that
 * `oci-layout` declares version 1.0.0 and that `index.json` is a valid index, with every digest in
 * it valid. Nothing is written.
 */
export async function openLayout(path: string, options: OpenLayoutOptions = {}): Promise<Layout> {
  const operation = "open layout";
  const root = checkPath(path, operation);
  checkLimits(options, operation);
  const directory = await isDirectory(root, operation);
  if (directory !== true) {
    throw new LayoutError(
      `${quote(root)} ${directory === undefined ? "does not exist" : "is not a directory"}; an OCI layout is a directory holding oci-layout, index.json and blobs/`,
      { code: "HOIST_LAYOUT_NOT_A_LAYOUT", operation, path: root },
    );
  }
  await checkLayout(root, options, operation);
  return new LayoutImpl(root, options);
}

/**
 * Opens the layout at `path`, creating it first when the directory is missing or empty: `blobs/`,
 * an empty `index.json` and `oci-layout` (written last, so a layout is never half made). A
 * non-empty directory that is not a layout is refused with `HOIST_LAYOUT_NOT_EMPTY`.
 */
export async function createLayout(path: string, options: OpenLayoutOptions = {}): Promise<Layout> {
  const operation = "create layout";
  const root = checkPath(path, operation);
  checkLimits(options, operation);
  const directory = await isDirectory(root, operation);
  if (directory === false) {
    throw new LayoutError(`${quote(root)} exists and is not a directory`, {
      code: "HOIST_LAYOUT_NOT_A_LAYOUT",
      operation,
      path: root,
    });
  }
  if (directory === undefined) {
    try {
      await mkdir(root, { recursive: true });
    } catch (error) {
      throw ioError(error, "HOIST_LAYOUT_WRITE_FAILED", operation, root);
    }
  }
  const entries = await readdir(root).catch((error: unknown) => {
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", operation, root);
  });
  if (entries.includes(LAYOUT_FILE)) {
    await checkLayout(root, options, operation);
    await safeBlobDirectory(root, undefined, { create: true, operation });
    return new LayoutImpl(root, options);
  }
  if (entries.length > 0) {
    throw new LayoutError(
      `${quote(root)} is not empty and is not an OCI layout (no oci-layout file); refusing to turn it into one, so choose an empty or new directory`,
      { code: "HOIST_LAYOUT_NOT_EMPTY", operation, path: root },
    );
  }
  await safeBlobDirectory(root, undefined, { create: true, operation });
  const { signal } = options;
  // index.json is renamed into place first: a crash never leaves an oci-layout file without it.
  await writeFilesAtomic(
    [
      { path: join(root, INDEX_FILE), data: encodeIndexJson(emptyIndexJson()) },
      { path: join(root, LAYOUT_FILE), data: LAYOUT_FILE_CONTENT },
    ],
    { operation, signal },
  );
  return new LayoutImpl(root, options);
}

/**
 * Writes an index as a whole layout (go-containerregistry's `layout.Write`): the layout is
 * created (or opened), every blob below `index` is written, and index.json becomes `index`'s
 * manifest byte for byte, so `(await layout.imageIndex()).digest()` equals `index.digest()`.
 * An existing index.json is replaced.
 */
export async function writeLayout(
  path: string,
  index: ImageIndex,
  options: OpenLayoutOptions & WriteOptions = {},
): Promise<Layout> {
  const layout = (await createLayout(path, options)) as LayoutImpl;
  await layout.shared(async () => {
    await writeTree(layout.path, index, {
      ...options,
      operation: "write layout",
      writeOwnManifest: false,
    });
    await layout.replaceIndexJson(
      await index.rawManifest({ signal: options.signal }),
      options.signal,
    );
  }, options.signal);
  return layout;
}

/** index.json of the layout at `path` as an ImageIndex (go-containerregistry's `ImageIndexFromPath`). */
export async function imageIndexFromPath(
  path: string,
  options: OpenLayoutOptions = {},
): Promise<ImageIndex> {
  return (await openLayout(path, options)).imageIndex(options);
}
