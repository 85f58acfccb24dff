import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach } from "vitest";
import type { RegistryResource, RepositoryResource } from "../src/index.js";

/** A registry resource as @hoist/name's Registry presents itself. */
export function registry(host: string): RegistryResource {
  return { host, toString: () => host };
}

/** A repository resource as @hoist/name's Repository presents itself. */
export function repository(host: string, path: string): RepositoryResource {
  const reg = registry(host);
  return { registry: reg, path, name: `${host}/${path}`, toString: () => `${host}/${path}` };
}

export function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

const made: string[] = [];

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory removed after the test. */
export async function tempDir(prefix = "hoist-authn-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function writeJson(path: string, value: unknown): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  return path;
}

/**
 * Writes `docker-credential-<name>` into `dir` as a /bin/sh script with the given body. The
 * script sees the action as $1 and the request on stdin.
 */
export async function writeHelper(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, `docker-credential-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/**
 * A helper that behaves like a real credential store backed by a directory: one file per
 * server URL, plus a log of every call ("action input") for the test to read.
 */
export async function writeStoreHelper(dir: string, name: string, storeDir: string): Promise<void> {
  await mkdir(storeDir, { recursive: true });
  await writeHelper(
    dir,
    name,
    `store="${storeDir}"
input=$(cat)
printf '%s %s\\n' "$1" "$input" >> "$store/calls.log"
key=$(printf '%s' "$input" | od -An -tx1 | tr -d ' \\n')
case "$1" in
  get)
    if [ -f "$store/$key" ]; then cat "$store/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
    skey=$(printf '%s' "$server" | od -An -tx1 | tr -d ' \\n')
    printf '%s' "$input" > "$store/$skey" ;;
  erase)
    if [ -f "$store/$key" ]; then rm "$store/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  list)
    echo '{}' ;;
  *) echo "unknown action $1"; exit 1 ;;
esac`,
  );
}

/** An environment whose PATH finds helpers in `dir` first and nothing from the real home. */
export function helperEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: `${dir}:/usr/bin:/bin`, ...extra };
}
