import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, relative } from "node:path";

/** Every path under a directory, with what it is: "dir", "link -> target" or "file <sha256>". */
export type TreeSnapshot = Readonly<Record<string, string>>;

/** Walks `root` without following links and fingerprints every entry. */
export async function treeSnapshot(root: string): Promise<TreeSnapshot> {
  const result: Record<string, string> = {};
  const walk = async (directory: string) => {
    let names: string[];
    try {
      names = (await readdir(directory)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(directory, name);
      const key = relative(root, path);
      const info = await lstat(path).catch(() => undefined);
      if (!info) continue;
      if (info.isSymbolicLink()) result[key] = `link -> ${await readlink(path)}`;
      else if (info.isDirectory()) {
        result[key] = "dir";
        await walk(path);
      } else {
        const hash = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
        result[key] = `file ${hash}`;
      }
    }
  };
  await walk(root);
  return result;
}

/**
 * What changed between two snapshots, leaving out paths inside `allowed` (the target a run
 * may write to). Each change is "added x", "removed x" or "changed x".
 */
export function treeChanges(
  before: TreeSnapshot,
  after: TreeSnapshot,
  options: { allowed?: readonly string[] } = {},
): string[] {
  const allowed = options.allowed ?? [];
  const inside = (path: string) => allowed.some((a) => path === a || path.startsWith(`${a}/`));
  const changes: string[] = [];
  for (const [path, what] of Object.entries(after)) {
    if (inside(path)) continue;
    if (!(path in before)) changes.push(`added ${path}`);
    else if (before[path] !== what) changes.push(`changed ${path}`);
  }
  for (const path of Object.keys(before)) {
    if (!inside(path) && !(path in after)) changes.push(`removed ${path}`);
  }
  return changes;
}
