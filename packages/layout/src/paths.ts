import { lstat, mkdir, realpath } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { Hash, OciError } from "@hoist/oci";
import { errnoCode, ioError, LayoutError, quote } from "./errors.js";

// Every path under blobs/ is built here, and only from a digest that has just been validated
// against the strict `alg:hex` grammar. A forged object that merely looks like a Hash is
// re-parsed from its string form, so its own `algorithm`/`hex` fields are never used.

/** @internal */
export const BLOBS_DIRECTORY = "blobs";
/** @internal */
export const LAYOUT_FILE = "oci-layout";
/** @internal */
export const INDEX_FILE = "index.json";

/** @internal Parses a digest given as a Hash or string; LayoutError `HOIST_LAYOUT_INVALID_DIGEST`. */
export function validHash(value: unknown, operation: string): Hash {
  const text =
    typeof value === "string"
      ? value
      : typeof value === "object" && value !== null
        ? String(value)
        : undefined;
  try {
    if (text === undefined) throw new TypeError(`expected a digest, got ${typeof value}`);
    return Hash.parse(text);
  } catch (error) {
    // Hash.parse's message already quotes the input and says what is wrong with it.
    const reason = OciError.is(error)
      ? error.message
      : `invalid digest: ${error instanceof Error ? error.message : String(error)}`;
    throw new LayoutError(
      `${reason}; a layout names blobs only by sha256:<64 hex> or sha512:<128 hex>, so no path was built from it`,
      { code: "HOIST_LAYOUT_INVALID_DIGEST", operation, cause: error },
    );
  }
}

/** @internal `<root>/blobs/<alg>/<hex>` for a digest that is validated on the way. */
export function blobPath(root: string, digest: Hash | string, operation: string): string {
  const hash = validHash(digest, operation);
  const path = join(root, BLOBS_DIRECTORY, hash.algorithm, hash.hex);
  // The grammar already rules out separators and dots; this is the belt to those braces.
  if (!isInside(join(root, BLOBS_DIRECTORY), path)) {
    throw new LayoutError(`blob path for ${hash} leaves the layout`, {
      code: "HOIST_LAYOUT_UNSAFE_PATH",
      operation,
      path,
    });
  }
  return path;
}

/** @internal True when `path` is `parent` or below it (both absolute). */
export function isInside(parent: string, path: string): boolean {
  const rel = relative(resolve(parent), resolve(path));
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

/**
 * @internal Makes sure `blobs/` and `blobs/<alg>/` are directories inside the layout before
 * anything is written to or deleted from them: a link that resolves outside the layout (someone
 * pointed `blobs` at /etc) is refused with `HOIST_LAYOUT_UNSAFE_PATH`. Missing directories are
 * created when `create` is set; otherwise the result is undefined for a missing one.
 */
export async function safeBlobDirectory(
  root: string,
  algorithm: string | undefined,
  options: { create: boolean; operation: string },
): Promise<string | undefined> {
  const { operation } = options;
  const rootReal = await realpath(root).catch((error: unknown) => {
    throw ioError(error, "HOIST_LAYOUT_READ_FAILED", operation, root);
  });
  const parts = algorithm === undefined ? [BLOBS_DIRECTORY] : [BLOBS_DIRECTORY, algorithm];
  let current = root;
  for (const part of parts) {
    current = join(current, part);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(current);
    } catch (error) {
      if (errnoCode(error) !== "ENOENT")
        throw ioError(error, "HOIST_LAYOUT_READ_FAILED", operation, current);
      if (!options.create) return undefined;
      try {
        await mkdir(current);
      } catch (mkdirError) {
        // Another writer may have created it in between; the check below covers both cases.
        if (errnoCode(mkdirError) !== "EEXIST") {
          throw ioError(mkdirError, "HOIST_LAYOUT_WRITE_FAILED", operation, current);
        }
      }
      info = await lstat(current);
    }
    if (info.isSymbolicLink()) {
      const target = await realpath(current).catch(() => undefined);
      if (target === undefined || !isInside(rootReal, target)) {
        throw new LayoutError(
          `${quote(current)} is a link to ${target === undefined ? "nowhere" : quote(target)}, outside the layout; hoist writes only inside the layout, so replace the link with a directory`,
          { code: "HOIST_LAYOUT_UNSAFE_PATH", operation, path: current },
        );
      }
      info = await lstat(target);
    }
    if (!info.isDirectory()) {
      throw new LayoutError(
        `${quote(current)} is not a directory; an OCI layout keeps its blobs in blobs/<algorithm>/`,
        { code: "HOIST_LAYOUT_UNSAFE_PATH", operation, path: current },
      );
    }
  }
  return current;
}
