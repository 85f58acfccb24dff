import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  fileStorage,
  memoryStorage,
  type RegistryStorage,
  type RunningRegistry,
  type StartRegistryOptions,
  startRegistry,
} from "../../src/index.js";

export type StorageKind = "memory" | "file";
export const STORAGE_KINDS: readonly StorageKind[] = ["memory", "file"];

/** A fresh storage of the kind, with a cleanup for its directory. */
export async function makeStorage(
  kind: StorageKind,
): Promise<{ storage: RegistryStorage; dir?: string }> {
  if (kind === "memory") return { storage: memoryStorage() };
  const dir = await mkdtemp(join(tmpdir(), "hoist-registry-test-"));
  return { storage: fileStorage(dir), dir };
}

/** Starts a registry for the tests of the calling describe block; returns a getter. */
export function useRegistry(
  kind: StorageKind,
  options: Omit<StartRegistryOptions, "storage"> = {},
): () => RunningRegistry & { dir?: string } {
  let running: (RunningRegistry & { dir?: string }) | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    const made = await makeStorage(kind);
    dir = made.dir;
    running = Object.assign(await startRegistry({ ...options, storage: made.storage }), { dir });
  });
  afterAll(async () => {
    await running?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!running) throw new Error("the registry only exists inside tests and hooks");
    return running;
  };
}
