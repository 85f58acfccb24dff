import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  type Descriptor,
  Hash,
  type Image,
  type ImageIndex,
  type Layer,
  OciError,
} from "@hoist/oci";
import { afterAll, expect } from "vitest";
import { LayoutError, type LayoutErrorCode } from "../src/index.js";

/** A fresh directory under the system temp dir, removed after the file's tests. */
export function useTempDirectories(prefix: string): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((path) => rm(path, { recursive: true, force: true })));
  });
  return async () => {
    const path = await mkdtemp(join(tmpdir(), `hoist-layout-${prefix}-`));
    made.push(path);
    return path;
  };
}

/** Every entry below `root`: files with their sha256, links with their target, directories. */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (directory: string) => {
    for (const name of (await readdir(directory)).sort()) {
      const path = join(directory, name);
      const key = relative(root, path);
      const info = await lstat(path);
      if (info.isSymbolicLink()) result[key] = `link -> ${await readlink(path)}`;
      else if (info.isDirectory()) {
        result[key] = "dir";
        await walk(path);
      } else
        result[key] = `file ${createHash("sha256")
          .update(await readFile(path))
          .digest("hex")}`;
    }
  };
  await walk(root);
  return result;
}

/** Awaits a promise that must reject with a LayoutError of `code`, and returns the error. */
export async function layoutFailure(
  promise: Promise<unknown>,
  code: LayoutErrorCode,
): Promise<LayoutError> {
  try {
    await promise;
  } catch (error) {
    expect(LayoutError.is(error), `expected a LayoutError ${code}, got ${String(error)}`).toBe(
      true,
    );
    expect((error as LayoutError).code, (error as Error).message).toBe(code);
    return error as LayoutError;
  }
  throw new Error(`expected a rejection with ${code}, but the promise resolved`);
}

/** Awaits a promise that must reject with an OciError of `code`. */
export async function ociFailure(promise: Promise<unknown>, code: string): Promise<OciError> {
  try {
    await promise;
  } catch (error) {
    expect(OciError.is(error), `expected an OciError ${code}, got ${String(error)}`).toBe(true);
    expect((error as OciError).code, (error as Error).message).toBe(code);
    return error as OciError;
  }
  throw new Error(`expected a rejection with ${code}, but the promise resolved`);
}

/** The digests of everything an image consists of: manifest, config, layers. */
export async function imageDigests(image: Image): Promise<string[]> {
  const manifest = await image.manifest();
  return [
    String(await image.digest()),
    String(manifest.config.digest),
    ...manifest.layers.map((layer) => String(layer.digest)),
  ];
}

/** Reads every layer of an image to its end (so each is verified) and returns their bytes. */
export async function readAllLayers(image: Image): Promise<Buffer[]> {
  const result: Buffer[] = [];
  for (const layer of await image.layers()) result.push(await buffer(await layer.compressed()));
  return result;
}

/** Every digest below an index, depth first: the index, its children and theirs. */
export async function indexDigests(index: ImageIndex): Promise<string[]> {
  const result = [String(await index.digest())];
  for (const child of (await index.indexManifest()).manifests) {
    if (child.mediaType.includes("index") || child.mediaType.includes("list")) {
      result.push(...(await indexDigests(await index.imageIndex(child.digest))));
    } else {
      const image = await index.image(child.digest);
      result.push(...(await imageDigests(image)));
      await readAllLayers(image);
    }
  }
  return result;
}

/**
 * A layer over bytes whose compressed stream the test controls: each call of `compressed()`
 * asks `open` for the stream. Digest and size are those of `bytes`.
 */
export function controlledLayer(
  bytes: Uint8Array,
  open: () => Readable | Promise<Readable>,
): Layer {
  const digest = Hash.compute(bytes);
  return {
    digest: async () => digest,
    diffID: async () => digest,
    size: async () => bytes.byteLength,
    mediaType: async () => "application/vnd.oci.image.layer.v1.tar",
    compressed: async () => open(),
    uncompressed: async () => Readable.from([bytes]),
  };
}

/** A descriptor literal for tests. */
export function descriptorFor(bytes: Uint8Array | string, mediaType: string): Descriptor {
  const data = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  return { mediaType, size: data.byteLength, digest: Hash.compute(data) };
}

/** The image's layer at `position`; fails the test when there is none. */
export async function layerAt(image: Image, position: number): Promise<Layer> {
  const layer = (await image.layers())[position];
  if (!layer) throw new Error(`the image has no layer ${position}`);
  return layer;
}
