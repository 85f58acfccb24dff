import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { promisify } from "node:util";
import { findBinary } from "@hoist/harness";
import { appendLayers, emptyImage, type Image, layerFromBytes, MediaType } from "@hoist/oci";
import { pack } from "tar-stream";
import { afterAll, beforeAll, expect } from "vitest";
import { TarballError } from "../src/index.js";

/** Runs a program; rejects when it exits non-zero. */
export const run = promisify(execFile);

/** GNU tar, the reference reader of every archive written here. */
export const gnuTar = findBinary("tar", {
  debianPackage: "tar",
  candidates: ["/usr/bin/tar", "/bin/tar"],
});

/** A fresh temporary directory for the file's tests, removed afterwards. */
export function useTempDirectory(prefix: string): () => string {
  let directory: string | undefined;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), `hoist-tarball-${prefix}-`));
  });
  afterAll(async () => {
    if (directory) await rm(directory, { recursive: true, force: true });
  });
  return () => {
    if (!directory) throw new Error("the temporary directory is made in beforeAll");
    return directory;
  };
}

/** Awaits a promise that must reject with a TarballError, and returns it. */
export async function tarballFailure(promise: Promise<unknown>): Promise<TarballError> {
  try {
    await promise;
  } catch (error) {
    expect(TarballError.is(error), `expected a TarballError, got ${String(error)}`).toBe(true);
    return error as TarballError;
  }
  throw new Error("expected a rejection with a TarballError, but the promise resolved");
}

/** A tar entry written by hand, hostile ones included. */
export interface RawEntry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  content?: string | Uint8Array;
  linkname?: string;
  mode?: number;
}

/** A tar of exactly these entries, in this order, with no checks. */
export async function rawTar(entries: readonly RawEntry[]): Promise<Buffer> {
  const archive = pack();
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? "");
    archive.entry(
      {
        name: entry.name,
        type: entry.type ?? "file",
        linkname: entry.linkname,
        mode: entry.mode,
        mtime: new Date(0),
      },
      content,
    );
  }
  archive.finalize();
  const chunks: Uint8Array[] = [];
  for await (const chunk of archive as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Every file under a directory, relative, sorted. */
export async function listTree(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return entries
    .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
    .sort();
}

/** Digests that must survive a trip through a tarball. */
export async function identity(image: Image) {
  const layers = await image.layers();
  return {
    digest: String(await image.digest()),
    config: String(await image.configName()),
    layers: await Promise.all(layers.map(async (layer) => String(await layer.digest()))),
    diffIDs: await Promise.all(layers.map(async (layer) => String(await layer.diffID()))),
  };
}

/** Every layer's uncompressed bytes, concatenated per layer. */
export async function layerTars(image: Image): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const layer of await image.layers()) out.push(await buffer(await layer.uncompressed()));
  return out;
}

/** A Docker image of hand-made layers (gzipped), base first. */
export async function imageOfLayers(...layers: RawEntry[][]): Promise<Image> {
  const built = [];
  for (const entries of layers) {
    built.push(
      layerFromBytes(await rawTar(entries), {
        compression: "gzip",
        mediaType: MediaType.DOCKER_LAYER,
      }),
    );
  }
  return appendLayers(emptyImage({ mediaType: MediaType.DOCKER_MANIFEST }), built);
}
