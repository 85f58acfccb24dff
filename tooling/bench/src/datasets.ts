import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  blobPath,
  type Descriptor,
  MEDIA_TYPES,
  type Platform,
  writeJsonBlob,
  writeLayer,
  writeLayoutIndex,
} from "./layout-writer.js";
import { randomBytes } from "./random-bytes.js";
import { tarEnd, tarFileHeader, tarPadding } from "./tar-entry.js";

export const DATASET_IDS = ["A", "B", "C", "D", "E", "F"] as const;
export type DatasetId = (typeof DATASET_IDS)[number];

const MiB = 1024 * 1024;

interface RandomImage {
  platform: Platform;
  layers: number;
  layerBytes: number;
}

export type DatasetSource =
  | { kind: "random"; images: RandomImage[]; index: boolean }
  /** Each entry is one layer: the paths (relative to /, `*` allowed at the end) it tars. */
  | { kind: "system"; layers: string[][] };

export interface DatasetSpec {
  /** A letter of {@link DATASETS}, or the name of a helper image such as the tag list's. */
  id: string;
  title: string;
  source: DatasetSource;
}

const amd64: Platform = { os: "linux", architecture: "amd64" };
const arm64: Platform = { os: "linux", architecture: "arm64" };

export const DATASETS: Record<DatasetId, DatasetSpec> = {
  A: {
    id: "A",
    title: "1 layer × 256 MiB",
    source: {
      kind: "random",
      index: false,
      images: [{ platform: amd64, layers: 1, layerBytes: 256 * MiB }],
    },
  },
  B: {
    id: "B",
    title: "8 layers × 32 MiB",
    source: {
      kind: "random",
      index: false,
      images: [{ platform: amd64, layers: 8, layerBytes: 32 * MiB }],
    },
  },
  C: {
    id: "C",
    title: "64 layers × 1 MiB",
    source: {
      kind: "random",
      index: false,
      images: [{ platform: amd64, layers: 64, layerBytes: MiB }],
    },
  },
  D: {
    id: "D",
    title: "index of 2 platforms × 4 layers × 16 MiB",
    source: {
      kind: "random",
      index: true,
      images: [
        { platform: amd64, layers: 4, layerBytes: 16 * MiB },
        { platform: arm64, layers: 4, layerBytes: 16 * MiB },
      ],
    },
  },
  E: {
    id: "E",
    title: "system directories, gzip -6",
    source: {
      kind: "system",
      layers: [
        ["etc"],
        ["usr/lib/python3*"],
        ["usr/include"],
        ["usr/share/doc"],
        ["usr/share/locale"],
      ],
    },
  },
  F: {
    id: "F",
    title: "1 layer × 1 GiB",
    source: {
      kind: "random",
      index: false,
      images: [{ platform: amd64, layers: 1, layerBytes: 1024 * MiB }],
    },
  },
};

/** The small image the 5,000-tag repository and the digest scenario use. */
export const TAGS_IMAGE: DatasetSpec = {
  id: "tags",
  title: "1 layer × 4 KiB",
  source: {
    kind: "random",
    index: false,
    images: [{ platform: amd64, layers: 1, layerBytes: 4096 }],
  },
};

/** A generated OCI layout, as recorded in its `dataset.json`. */
export interface PreparedDataset {
  id: string;
  title: string;
  layoutDir: string;
  /** What `index.json` points at: an image manifest or (D) an image index. */
  root: Descriptor;
  /** Every manifest, children before the index that lists them; `root` is last. */
  manifests: Descriptor[];
  configs: Descriptor[];
  layers: Descriptor[];
  /** Bytes of every blob and manifest: what a full push or pull moves. */
  bytes: number;
}

// Bump when the bytes a spec generates change, so cached layouts are regenerated.
const GENERATOR_VERSION = 1;

export function blobsOf(dataset: PreparedDataset): Descriptor[] {
  return [...dataset.configs, ...dataset.layers];
}

async function* randomLayerTar(seed: string, size: number): AsyncGenerator<Buffer> {
  yield tarFileHeader("data.bin", size);
  yield* randomBytes(seed, size);
  yield tarPadding(size);
  yield tarEnd();
}

function imageConfig(platform: Platform, diffIds: string[]) {
  return {
    architecture: platform.architecture,
    os: platform.os,
    config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"] },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created_by: `hoist bench layer ${i + 1}` })),
  };
}

async function writeImage(
  layoutDir: string,
  platform: Platform,
  layers: Array<{ descriptor: Descriptor; diffId: string }>,
) {
  const config = await writeJsonBlob(
    layoutDir,
    imageConfig(
      platform,
      layers.map((layer) => layer.diffId),
    ),
    MEDIA_TYPES.config,
  );
  const manifest = await writeJsonBlob(
    layoutDir,
    {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config,
      layers: layers.map((layer) => layer.descriptor),
    },
    MEDIA_TYPES.manifest,
  );
  return { config, manifest };
}

/** Expands `usr/lib/python3*` against the file system; missing paths are left out. */
export async function resolveSystemPaths(patterns: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const pattern of patterns) {
    if (!pattern.endsWith("*")) {
      if (existsSync(join("/", pattern))) found.push(pattern);
      continue;
    }
    const slash = pattern.lastIndexOf("/");
    const parent = pattern.slice(0, slash);
    const prefix = pattern.slice(slash + 1, -1);
    const entries = await readdir(join("/", parent)).catch(() => [] as string[]);
    for (const entry of entries.sort())
      if (entry.startsWith(prefix)) found.push(`${parent}/${entry}`);
  }
  return found;
}

/**
 * A tar of real directories from GNU tar, sorted and with owners zeroed so the same machine
 * gives the same bytes. Unreadable files are skipped rather than failing the benchmark.
 */
function systemTar(paths: string[], signal?: AbortSignal): Readable {
  const child = spawn(
    "tar",
    [
      "--create",
      "--file=-",
      "--sort=name",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--ignore-failed-read",
      "--warning=no-file-changed",
      "--warning=no-failed-read",
      "--directory=/",
      ...paths,
    ],
    { stdio: ["ignore", "pipe", "pipe"], signal },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const output = child.stdout;
  child.on("exit", (code) => {
    // 1 means "some files changed while being read": the archive is still complete.
    if (code !== 0 && code !== 1)
      output.destroy(new Error(`tar of ${paths.join(", ")} exited with ${code}: ${stderr}`));
  });
  return output;
}

async function generate(spec: DatasetSpec, layoutDir: string, signal?: AbortSignal) {
  const manifests: Descriptor[] = [];
  const configs: Descriptor[] = [];
  const layers: Descriptor[] = [];
  let root: Descriptor;
  if (spec.source.kind === "random") {
    const children: Descriptor[] = [];
    for (const [imageIndex, image] of spec.source.images.entries()) {
      const written = [];
      for (let i = 0; i < image.layers; i++) {
        const seed = `hoist-bench/${spec.id}/${imageIndex}/${i}`;
        written.push(
          await writeLayer(layoutDir, Readable.from(randomLayerTar(seed, image.layerBytes)), {
            gzipLevel: 0,
            signal,
          }),
        );
      }
      const { config, manifest } = await writeImage(layoutDir, image.platform, written);
      configs.push(config);
      layers.push(...written.map((layer) => layer.descriptor));
      manifests.push(manifest);
      children.push({ ...manifest, platform: image.platform });
    }
    if (spec.source.index) {
      root = await writeJsonBlob(
        layoutDir,
        { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: children },
        MEDIA_TYPES.index,
      );
      manifests.push(root);
    } else {
      root = manifests[0] as Descriptor;
    }
  } else {
    const written = [];
    for (const patterns of spec.source.layers) {
      const paths = await resolveSystemPaths(patterns);
      if (paths.length === 0) continue;
      written.push(await writeLayer(layoutDir, systemTar(paths, signal), { gzipLevel: 6, signal }));
    }
    if (written.length === 0)
      throw new Error(
        `dataset ${spec.id}: none of the system directories exist (${spec.source.layers.flat().join(", ")})`,
      );
    const { config, manifest } = await writeImage(layoutDir, amd64, written);
    configs.push(config);
    layers.push(...written.map((layer) => layer.descriptor));
    manifests.push(manifest);
    root = manifest;
  }
  await writeLayoutIndex(layoutDir, root);
  return { root, manifests, configs, layers };
}

async function cacheKey(spec: DatasetSpec): Promise<string> {
  const resolved =
    spec.source.kind === "system"
      ? await Promise.all(spec.source.layers.map((patterns) => resolveSystemPaths(patterns)))
      : undefined;
  return JSON.stringify({ version: GENERATOR_VERSION, spec, resolved });
}

async function readCached(
  dir: string,
  key: string,
): Promise<(PreparedDataset & { key: string }) | undefined> {
  let cached: PreparedDataset & { key: string };
  try {
    cached = JSON.parse(await readFile(join(dir, "dataset.json"), "utf8"));
  } catch {
    return undefined;
  }
  if (cached.key !== key) return undefined;
  for (const blob of [...cached.manifests, ...blobsOf(cached)]) {
    const info = await stat(blobPath(dir, blob.digest)).catch(() => undefined);
    if (info?.size !== blob.size) return undefined;
  }
  return { ...cached, layoutDir: dir };
}

/**
 * Returns the dataset's OCI layout under `cacheDir`, generating it first unless an intact
 * copy from an earlier run is there. Generation streams to disk; a half-written layout is
 * never mistaken for a finished one (it is built in a scratch directory and renamed).
 */
export async function ensureDataset(
  spec: DatasetSpec,
  options: { cacheDir: string; log?: (line: string) => void; signal?: AbortSignal },
): Promise<PreparedDataset> {
  const dir = join(options.cacheDir, spec.id);
  const key = await cacheKey(spec);
  const cached = await readCached(dir, key);
  if (cached) return cached;

  options.log?.(`generating dataset ${spec.id} (${spec.title}) in ${dir}`);
  const scratch = `${dir}.partial`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const generated = await generate(spec, scratch, options.signal);
  const unique = new Map<string, number>();
  for (const d of [...generated.manifests, ...generated.configs, ...generated.layers])
    unique.set(d.digest, d.size);
  const bytes = [...unique.values()].reduce((sum, size) => sum + size, 0);
  const prepared = { id: spec.id, title: spec.title, layoutDir: dir, ...generated, bytes };
  await writeFile(join(scratch, "dataset.json"), JSON.stringify({ ...prepared, key }, null, 2));
  await rm(dir, { recursive: true, force: true });
  await rename(scratch, dir);
  return prepared;
}
