import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { Hash, hashStream } from "@hoist/oci";
import { quote, RegistryError } from "../errors.js";
import { blobUnknown, digestMismatch, uploadUnknown } from "./storage-errors.js";
import type {
  ManifestToStore,
  ReferrerDescriptor,
  RegistryStorage,
  StorageCallOptions,
  StoredManifest,
  UploadState,
} from "./types.js";

export interface FileStorageOptions {
  /** Called with the paths of leftover temporary files removed when the storage opens. */
  onCleanup?: (paths: string[]) => void;
}

// On-disk layout under the root directory (one registry process per directory):
//   blobs/<alg>/<first two hex>/<hex>         verified content, blobs and manifests alike
//   uploads/<id>/data, uploads/<id>/info.json upload sessions, resumable across restarts
//   repositories/<name>/_blobs/<alg>/<hex>    empty file: the blob is visible in <name>
//   repositories/<name>/_manifests/<alg>/<hex> JSON: the media type the manifest was pushed as
//   repositories/<name>/_tags/<tag>           the digest the tag points at
//   repositories/<name>/_referrers/<subject alg>-<hex>/<alg>-<hex>  JSON referrer descriptor
//   tmp/                                       files being written; renamed into place whole
// Every file outside tmp/ and uploads/ appears by rename(2) of a complete file, so a crash
// leaves either the old state or the new one. Repository components never start with "_",
// so the "_" directories cannot clash with nested repository names.

/**
 * Storage in a directory on disk: content-addressed blobs written atomically (temporary file,
 * digest verified, then renamed into place), per-repository links, and upload sessions that
 * survive a restart. Leftover temporary files from a crash are removed when it opens.
 */
export function fileStorage(root: string, options: FileStorageOptions = {}): RegistryStorage {
  if (typeof root !== "string" || root.length === 0) {
    throw new RegistryError(
      `fileStorage() needs a directory path, got ${quote(root)}; pass the directory to keep content in`,
      { code: "HOIST_REGISTRY_INVALID_OPTION", operation: "open file storage" },
    );
  }
  const tmpDir = join(root, "tmp");
  const uploadsDir = join(root, "uploads");
  const reposDir = join(root, "repositories");

  let ready: Promise<void> | undefined;
  const init = () => {
    ready ??= io("open file storage", root, async () => {
      await mkdir(join(root, "blobs"), { recursive: true });
      await mkdir(uploadsDir, { recursive: true });
      await mkdir(reposDir, { recursive: true });
      // Whatever is in tmp/ was being written when a previous process stopped: never valid.
      const leftovers = (await listDir(tmpDir)).map((f) => join(tmpDir, f));
      await rm(tmpDir, { recursive: true, force: true });
      await mkdir(tmpDir, { recursive: true });
      if (leftovers.length > 0) options.onCleanup?.(leftovers);
    });
    return ready;
  };

  /** Opens the storage if needed, then runs one I/O step (see {@link io}). */
  const step = async <T>(operation: string, subject: string, run: () => Promise<T>): Promise<T> => {
    await init();
    return io(operation, subject, run);
  };

  const blobPath = (digest: string) => {
    const { algorithm, hex } = Hash.parse(digest);
    return join(root, "blobs", algorithm, hex.slice(0, 2), hex);
  };
  const repoPath = (repository: string, ...parts: string[]) =>
    join(reposDir, ...repository.split("/"), ...parts);
  const digestPath = (digest: string) => {
    const { algorithm, hex } = Hash.parse(digest);
    return [algorithm, hex];
  };
  const linkPath = (repository: string, digest: string) =>
    repoPath(repository, "_blobs", ...digestPath(digest));
  const manifestPath = (repository: string, digest: string) =>
    repoPath(repository, "_manifests", ...digestPath(digest));
  const tagPath = (repository: string, tag: string) =>
    repoPath(repository, "_tags", encodeTag(tag));
  const referrerDir = (repository: string, subject: string) =>
    repoPath(repository, "_referrers", digestPath(subject).join("-"));
  const uploadPath = (id: string, file: "data" | "info.json") => join(uploadsDir, id, file);

  /** Writes a whole file under tmp/, then renames it into place. */
  const writeAtomic = async (target: string, data: string | Uint8Array) => {
    const temporary = join(tmpDir, randomUUID());
    await writeFile(temporary, data);
    await mkdir(dirname(target), { recursive: true });
    await rename(temporary, target);
  };

  const readUploadState = async (id: string): Promise<UploadState | undefined> => {
    let info: { repository: string; startedAt: string };
    try {
      info = JSON.parse(await readFile(uploadPath(id, "info.json"), "utf8"));
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
    const size = await stat(uploadPath(id, "data")).then(
      (s) => s.size,
      (error) => {
        if (isMissing(error)) return undefined;
        throw error;
      },
    );
    if (size === undefined) return undefined;
    return { id, repository: info.repository, size, startedAt: new Date(info.startedAt) };
  };
  const requireUpload = async (id: string, operation: string) => {
    const state = await readUploadState(id);
    if (!state) throw uploadUnknown(id, operation);
    return state;
  };

  const nonEmpty = async (dir: string, depth: number): Promise<boolean> => {
    const entries = await listDir(dir);
    if (depth === 0) return entries.length > 0;
    for (const entry of entries) if (await nonEmpty(join(dir, entry), depth - 1)) return true;
    return false;
  };
  const exists = async (repository: string) =>
    (await nonEmpty(repoPath(repository, "_tags"), 0)) ||
    (await nonEmpty(repoPath(repository, "_manifests"), 1)) ||
    (await nonEmpty(repoPath(repository, "_blobs"), 1));

  const storage: RegistryStorage = {
    kind: "file",

    async statBlob(digest) {
      return step("stat blob", digest, async () => {
        try {
          return { digest, size: (await stat(blobPath(digest))).size };
        } catch (error) {
          if (isMissing(error)) return undefined;
          throw error;
        }
      });
    },

    async readBlob(digest, options = {}) {
      return step("read blob", digest, async () => {
        // Open first so a missing blob fails here, before any response is started.
        let handle: Awaited<ReturnType<typeof open>>;
        try {
          handle = await open(blobPath(digest), "r");
        } catch (error) {
          if (isMissing(error)) throw blobUnknown(digest);
          throw error;
        }
        return handle.createReadStream({
          start: options.start,
          end: options.end,
          signal: options.signal,
        });
      });
    },

    async isBlobLinked(repository, digest) {
      return step("check blob link", repository, () => fileExists(linkPath(repository, digest)));
    },
    async linkBlob(repository, digest) {
      await step("link blob", repository, () => writeAtomic(linkPath(repository, digest), ""));
    },
    async unlinkBlob(repository, digest) {
      return step("unlink blob", repository, () => removeFile(linkPath(repository, digest)));
    },

    async createUpload(repository) {
      return step("create upload", repository, async () => {
        const id = randomUUID();
        const startedAt = new Date();
        await mkdir(join(uploadsDir, id));
        await writeFile(uploadPath(id, "data"), "");
        // info.json last: a session without it is invisible (and so is a half-created one).
        await writeAtomic(
          uploadPath(id, "info.json"),
          JSON.stringify({ repository, startedAt: startedAt.toISOString() }),
        );
        return { id, repository, size: 0, startedAt };
      });
    },
    async getUpload(id) {
      return step("read upload", id, () => readUploadState(id));
    },
    async writeUpload(id, offset, source, options: StorageCallOptions = {}) {
      await step("write upload", id, () => requireUpload(id, "write upload"));
      const handle = await io("write upload", id, () => open(uploadPath(id, "data"), "r+"));
      try {
        await io("write upload", id, () => handle.truncate(offset));
        let position = offset;
        for await (const chunk of source) {
          options.signal?.throwIfAborted();
          let written = 0;
          while (written < chunk.length) {
            const { bytesWritten } = await io("write upload", id, () =>
              handle.write(chunk, written, chunk.length - written, position + written),
            );
            written += bytesWritten;
          }
          position += chunk.length;
        }
        return position;
      } finally {
        await handle.close();
      }
    },
    async truncateUpload(id, size) {
      await step("truncate upload", id, async () => {
        const state = await requireUpload(id, "truncate upload");
        if (size > state.size) {
          throw new RegistryError(
            `cannot truncate an upload of ${state.size} bytes to ${size} bytes; only shrinking is possible`,
            { code: "HOIST_REGISTRY_INVALID_ARGUMENT", operation: "truncate upload" },
          );
        }
        const handle = await open(uploadPath(id, "data"), "r+");
        try {
          await handle.truncate(size);
        } finally {
          await handle.close();
        }
      });
    },
    async readUpload(id, call: StorageCallOptions = {}) {
      await step("read upload", id, () => requireUpload(id, "read upload"));
      return createReadStream(uploadPath(id, "data"), { signal: call.signal });
    },
    async commitUpload(id, digest, options = {}) {
      await init();
      const expected = Hash.parse(digest);
      const state = await io("commit upload", id, () => requireUpload(id, "commit upload"));
      const data = uploadPath(id, "data");
      if (options.verified !== digest) {
        const { hash } = await io("commit upload", id, () =>
          hashStream(createReadStream(data), {
            algorithm: expected.algorithm,
            signal: options.signal,
          }),
        );
        if (!hash.equals(expected)) throw digestMismatch(digest, hash.toString(), state.size);
      }
      await io("commit upload", id, async () => {
        // Durable before visible: the rename must never expose bytes still in the page cache only.
        const handle = await open(data, "r");
        try {
          await handle.datasync();
        } finally {
          await handle.close();
        }
        const target = blobPath(digest);
        await mkdir(dirname(target), { recursive: true });
        await rename(data, target);
        await rm(join(uploadsDir, id), { recursive: true, force: true });
      });
      return { digest, size: state.size };
    },
    async deleteUpload(id) {
      return step("delete upload", id, async () => {
        const existed = await fileExists(uploadPath(id, "info.json"));
        await rm(join(uploadsDir, id), { recursive: true, force: true });
        return existed;
      });
    },

    async putManifest(repository, manifest: ManifestToStore) {
      await init();
      const expected = Hash.parse(manifest.digest);
      const actual = Hash.compute(manifest.bytes, { algorithm: expected.algorithm });
      if (!actual.equals(expected)) {
        throw digestMismatch(manifest.digest, actual.toString(), manifest.bytes.length);
      }
      await io("put manifest", repository, async () => {
        const content = blobPath(manifest.digest);
        if (!(await fileExists(content))) await writeAtomic(content, manifest.bytes);
        if (manifest.referrer) {
          await writeAtomic(
            join(
              referrerDir(repository, manifest.referrer.subject),
              digestPath(manifest.digest).join("-"),
            ),
            JSON.stringify(manifest.referrer.descriptor),
          );
        }
        // The manifest record last: once it exists, everything it needs is in place.
        await writeAtomic(
          manifestPath(repository, manifest.digest),
          JSON.stringify({ mediaType: manifest.mediaType }),
        );
      });
    },
    async getManifest(repository, digest): Promise<StoredManifest | undefined> {
      return step("get manifest", repository, async () => {
        let record: { mediaType: string };
        try {
          record = JSON.parse(await readFile(manifestPath(repository, digest), "utf8"));
        } catch (error) {
          if (isMissing(error)) return undefined;
          throw error;
        }
        const bytes = await readFile(blobPath(digest));
        return { digest, mediaType: record.mediaType, size: bytes.length, bytes };
      });
    },
    async deleteManifest(repository, digest) {
      return step("delete manifest", repository, async () => {
        if (!(await removeFile(manifestPath(repository, digest)))) return false;
        for (const tag of await storage.listTags(repository)) {
          if ((await storage.getTag(repository, tag)) === digest) {
            await removeFile(tagPath(repository, tag));
          }
        }
        const referrers = repoPath(repository, "_referrers");
        for (const subject of await listDir(referrers)) {
          await removeFile(join(referrers, subject, digestPath(digest).join("-")));
        }
        return true;
      });
    },

    async getTag(repository, tag) {
      return step("get tag", repository, async () => {
        try {
          return (await readFile(tagPath(repository, tag), "utf8")).trim();
        } catch (error) {
          if (isMissing(error)) return undefined;
          throw error;
        }
      });
    },
    async setTag(repository, tag, digest) {
      await step("set tag", repository, () => writeAtomic(tagPath(repository, tag), digest));
    },
    async deleteTag(repository, tag) {
      return step("delete tag", repository, () => removeFile(tagPath(repository, tag)));
    },
    async listTags(repository) {
      return step("list tags", repository, async () => {
        const files = await listDir(repoPath(repository, "_tags"));
        return files.map(decodeTag);
      });
    },

    async listReferrers(repository, subject) {
      return step("list referrers", repository, async () => {
        const dir = referrerDir(repository, subject);
        const files = await listDir(dir);
        const descriptors: ReferrerDescriptor[] = [];
        for (const file of files) {
          try {
            descriptors.push(JSON.parse(await readFile(join(dir, file), "utf8")));
          } catch (error) {
            if (!isMissing(error)) throw error;
          }
        }
        return descriptors;
      });
    },

    async repositoryExists(repository) {
      return step("check repository", repository, () => exists(repository));
    },
    async listRepositories() {
      return step("list repositories", root, async () => {
        const found: string[] = [];
        const walk = async (dir: string): Promise<void> => {
          const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
          const names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
          if (names.some((n) => n.startsWith("_"))) {
            const name = relative(reposDir, dir).split(sep).join("/");
            if (await exists(name)) found.push(name);
          }
          for (const name of names) if (!name.startsWith("_")) await walk(join(dir, name));
        };
        await walk(reposDir);
        return found;
      });
    },
  };
  return storage;
}

// Tags are case-sensitive but file systems may not be (macOS, Windows): an uppercase letter is
// stored as "^" plus its lowercase form. "^" never occurs in a tag, so this is reversible.
function encodeTag(tag: string): string {
  return tag.replace(/[A-Z]/g, (c) => `^${c.toLowerCase()}`);
}
function decodeTag(file: string): string {
  return file.replace(/\^([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The entries of a directory; none when it does not exist. */
async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

async function removeFile(path: string): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Runs an I/O step, turning system errors into RegistryError `HOIST_REGISTRY_STORAGE_FAILED`. */
async function io<T>(operation: string, subject: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (RegistryError.is(error) || (error as Error)?.name === "AbortError") throw error;
    if ((error as NodeJS.ErrnoException)?.code === undefined) throw error;
    throw new RegistryError(
      `${operation} failed for ${quote(subject)}: ${(error as Error).message}. ` +
        "Check that the storage directory exists, is writable and has free space.",
      { code: "HOIST_REGISTRY_STORAGE_FAILED", operation, cause: error },
    );
  }
}
