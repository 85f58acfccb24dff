import { type FileHandle, open } from "node:fs/promises";
import { cleanPath, isSafeEntryName, parentOf, safeEntryName } from "./entry-path.js";
import { quote, reason, TarballError } from "./errors.js";
import {
  BLOCK,
  decodeHeader,
  type HeaderKind,
  isZeroBlock,
  paddedSize,
  parseLongName,
  parsePaxRecords,
} from "./tar-header.js";

/** One member of an indexed archive. */
export interface IndexedEntry {
  /** The cleaned name. */
  name: string;
  kind: Exclude<HeaderKind, "pax" | "pax-global" | "gnu-long-name" | "gnu-long-link">;
  linkname: string;
  /** Offset of the entry's data in the file. */
  offset: number;
  size: number;
}

/** Where a regular file's bytes are. */
export interface EntryLocation {
  /** The name asked for. */
  name: string;
  /** The name of the regular file it resolved to (after following links). */
  resolved: string;
  offset: number;
  size: number;
}

// Long names and pax records are a few hundred bytes in practice; the cap keeps a hostile
// header from making the index allocate gigabytes.
const MAX_META_BYTES = 1024 * 1024;
// A docker-save archive has a handful of entries per layer; this bounds memory for hostile ones.
const MAX_ENTRIES = 1_000_000;
// Linux gives up after 40 symlinks (ELOOP); so does this.
const MAX_LINK_HOPS = 40;

function truncated(path: string, operation: string, what: string): TarballError {
  return new TarballError(
    `the tar archive ${quote(path)} is truncated: it ends in the middle of ${what}; the file is incomplete, copy or save it again`,
    { code: "HOIST_TARBALL_TRUNCATED", operation, input: path },
  );
}

/** @internal Reads up to `length` bytes at `position`; fewer only at the end of the file. */
export async function readExactly(
  handle: FileHandle,
  length: number,
  position: number,
): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * The members of a tar archive on disk, found by reading only the headers (each entry's data is
 * skipped by seeking). Later members with the same cleaned name replace earlier ones, as they do
 * when the archive is extracted.
 */
export class TarIndex {
  readonly path: string;
  readonly #entries: Map<string, IndexedEntry>;

  private constructor(path: string, entries: Map<string, IndexedEntry>) {
    this.path = path;
    this.#entries = entries;
  }

  /** Reads the headers of the archive at `path`. */
  static async open(
    path: string,
    options: { signal?: AbortSignal; operation: string },
  ): Promise<TarIndex> {
    const { signal, operation } = options;
    signal?.throwIfAborted();
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      throw new TarballError(
        `cannot open tarball ${quote(path)} (${reason(error)}); check the path and its permissions`,
        { code: "HOIST_TARBALL_READ_FAILED", operation, input: path, cause: error },
      );
    }
    try {
      return new TarIndex(path, await TarIndex.#scan(handle, path, signal, operation));
    } catch (error) {
      if (TarballError.is(error) || signal?.aborted) throw error;
      throw new TarballError(`cannot read tarball ${quote(path)} (${reason(error)})`, {
        code: "HOIST_TARBALL_READ_FAILED",
        operation,
        input: path,
        cause: error,
      });
    } finally {
      await handle.close();
    }
  }

  static async #scan(
    handle: FileHandle,
    path: string,
    signal: AbortSignal | undefined,
    operation: string,
  ): Promise<Map<string, IndexedEntry>> {
    const fileSize = (await handle.stat()).size;
    const entries = new Map<string, IndexedEntry>();
    let position = 0;
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    let count = 0;
    for (;;) {
      signal?.throwIfAborted();
      // An archive that stops cleanly at an entry boundary without the end-of-archive blocks
      // is read as complete, as Go's archive/tar and GNU tar do.
      if (position === fileSize) break;
      const block = await readExactly(handle, BLOCK, position);
      if (block.length < BLOCK) throw truncated(path, operation, "a header");
      if (isZeroBlock(block)) break;
      const header = decodeHeader(block, operation);
      // Only a local pax header may rename or resize the entry after it; a global "path" or
      // "size" would apply to every later entry, which no writer means.
      const paxSize = pax.get("size");
      let size = header.size;
      if (paxSize !== undefined && (header.kind === "file" || header.kind === "other")) {
        if (!/^[0-9]{1,16}$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
          throw new TarballError(`a pax size record ${quote(paxSize)} is not a number`, {
            code: "HOIST_TARBALL_INVALID_ARCHIVE",
            operation,
          });
        }
        size = Number(paxSize);
      }
      const dataStart = position + BLOCK;
      if (dataStart + size > fileSize) throw truncated(path, operation, "an entry's data");
      position = dataStart + paddedSize(size);

      if (
        header.kind === "pax" ||
        header.kind === "pax-global" ||
        header.kind === "gnu-long-name" ||
        header.kind === "gnu-long-link"
      ) {
        if (size > MAX_META_BYTES) {
          throw new TarballError(
            `a tar extended header of ${size} bytes is larger than the ${MAX_META_BYTES} allowed`,
            { code: "HOIST_TARBALL_INVALID_ARCHIVE", operation },
          );
        }
        const data = await readExactly(handle, size, dataStart);
        if (header.kind === "pax") pax = parsePaxRecords(data, operation);
        else if (header.kind === "pax-global") parsePaxRecords(data, operation);
        else if (header.kind === "gnu-long-name") longName = parseLongName(data);
        else longLink = parseLongName(data);
        continue;
      }

      const name = pax.get("path") ?? longName ?? header.name;
      const linkname = pax.get("linkpath") ?? longLink ?? header.linkname;
      pax = new Map();
      longName = undefined;
      longLink = undefined;
      if (++count > MAX_ENTRIES) {
        throw new TarballError(`the tar archive has more than ${MAX_ENTRIES} entries`, {
          code: "HOIST_TARBALL_INVALID_ARCHIVE",
          operation,
        });
      }
      // docker load extracts the archive first: an absolute member lands under its directory,
      // so it is indexed relative; a member climbing out with ".." could never be loaded and is
      // left out (no lookup can reach it).
      const relative = name.replace(/^\/+/, "");
      if (!isSafeEntryName(relative)) continue;
      const cleaned = cleanPath(relative);
      entries.set(cleaned, { name: cleaned, kind: header.kind, linkname, offset: dataStart, size });
    }
    return entries;
  }

  /** Every entry, in archive order of their last occurrence. */
  entries(): IndexedEntry[] {
    return [...this.#entries.values()];
  }

  /** The entry named exactly `name` (cleaned), without following links. */
  entry(name: string): IndexedEntry | undefined {
    return this.#entries.get(cleanPath(name));
  }

  /**
   * Finds the regular file `name` refers to, following symbolic links (relative to the link's
   * directory) and hard links (relative to the root), refusing targets outside the archive and
   * link cycles. Throws `HOIST_TARBALL_MISSING_ENTRY` when it is not there.
   */
  locate(name: string, operation: string, what = "file"): EntryLocation {
    let current = safeEntryName(name, operation, `${what} path`);
    const visited = new Set<string>();
    for (let hops = 0; ; hops++) {
      if (visited.has(current) || hops > MAX_LINK_HOPS) {
        throw new TarballError(
          `the link chain from ${quote(name)} in ${quote(this.path)} ${visited.has(current) ? "loops" : "is too long"}; the archive is malformed`,
          { code: "HOIST_TARBALL_LINK_CYCLE", operation, input: name },
        );
      }
      visited.add(current);
      const entry = this.#entries.get(current);
      if (!entry) {
        throw new TarballError(
          `${what} ${quote(name)}${current === cleanPath(name) ? "" : ` (via ${quote(current)})`} is not in tarball ${quote(this.path)}; the archive is incomplete or manifest.json is wrong`,
          { code: "HOIST_TARBALL_MISSING_ENTRY", operation, input: name },
        );
      }
      if (entry.kind === "file") {
        return { name, resolved: current, offset: entry.offset, size: entry.size };
      }
      if (entry.kind === "symlink" || entry.kind === "link") {
        const target =
          entry.kind === "symlink" && !entry.linkname.startsWith("/")
            ? `${parentOf(current) === "." ? "" : `${parentOf(current)}/`}${entry.linkname}`
            : entry.linkname;
        current = safeEntryName(target, operation, `link target of ${quote(entry.name)}`);
        continue;
      }
      throw new TarballError(
        `${what} ${quote(name)} in tarball ${quote(this.path)} is a ${entry.kind}, not a regular file`,
        { code: "HOIST_TARBALL_INVALID_ARCHIVE", operation, input: name },
      );
    }
  }
}
