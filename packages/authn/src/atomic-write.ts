import { randomBytes } from "node:crypto";
import { lstat, mkdir, open, readlink, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

export interface AtomicWriteOptions {
  /** File mode of the result. Default 0o600: config files hold secrets. */
  mode?: number;
  signal?: AbortSignal;
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/**
 * The file a write to `path` should replace: the target of a symlink (dangling or not), so a
 * config.json symlinked into a dotfiles repository stays a symlink, as docker keeps it.
 */
async function writeTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
  let current = resolve(path);
  // Follow a dangling chain by hand; realpath gives up on it.
  for (let hops = 0; hops < 32; hops++) {
    try {
      const info = await lstat(current);
      if (!info.isSymbolicLink()) return current;
      current = resolve(dirname(current), await readlink(current));
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return current;
      throw error;
    }
  }
  return current;
}

/**
 * Replaces a file so that readers (and a crash at any moment) see either the old content or
 * the new, never a mix: the new content goes to a temporary file in the same directory, is
 * flushed to disk, and is renamed over the target; then the directory entry is flushed.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const target = await writeTarget(path);
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const previous = await stat(target).catch(() => undefined);
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  options.signal?.throwIfAborted();
  const handle = await open(temp, "wx", mode);
  let renamed = false;
  try {
    try {
      await handle.writeFile(data, "utf8");
      // The creation mode is filtered by the umask; set the exact mode explicitly.
      await handle.chmod(mode);
      // Keep the owner when root rewrites a user's file (sudo), as docker does.
      if (previous && process.getuid?.() === 0) {
        await handle.chown(previous.uid, previous.gid).catch(() => {});
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    options.signal?.throwIfAborted();
    await rename(temp, target);
    renamed = true;
  } finally {
    if (!renamed) await unlink(temp).catch(() => {});
  }
  // Make the rename itself durable; some file systems refuse fsync on directories.
  const dirHandle = await open(dir, "r").catch(() => undefined);
  if (dirHandle) {
    await dirHandle.sync().catch(() => {});
    await dirHandle.close();
  }
}
