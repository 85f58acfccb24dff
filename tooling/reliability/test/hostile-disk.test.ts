import { createHash } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createLayout, openLayout } from "@hoist/layout";
import {
  appendManifests,
  type BlobSource,
  createImage,
  createImageIndex,
  type Descriptor,
  emptyIndex,
  Hash,
  type Image,
  type ImageIndex,
  type Layer,
  MediaType,
  randomImage,
} from "@hoist/oci";
import { exportImage, flatten } from "@hoist/tarball";
import { beforeEach, describe, expect, it } from "vitest";
import { suiteSize, treeChanges, treeSnapshot } from "../src/index.js";
import { type HostileCase, hostileRun } from "./hostile-support.js";
import { gzip, gzipBomb, paxEntry, rawTar } from "./raw-tar.js";
import { expectClean, readWholeTarball, tempDir, useTally } from "./support.js";

// Hostile input reaching the disk: digests that are paths, index cycles, absurd nesting,
// oversized documents (layouts); decompression bombs, entries escaping the root, links out of
// the archive, truncation (tarballs). Each case: a typed error within the bound, nothing
// written outside the target, no output left half-written.

const BOUND_MS = 60_000;
const size = suiteSize();
const layoutTally = useTally("hostile: layouts (digests as paths, cycles, nesting)", {
  boundMs: BOUND_MS,
});
const tarballTally = useTally("hostile: export/flatten/tarballs (bombs, escapes)", {
  boundMs: BOUND_MS,
});

let sandbox: string;
beforeEach(async () => {
  sandbox = await tempDir();
  await mkdir(join(sandbox, "outside"));
  await writeFile(join(sandbox, "outside", "secret"), "must not change");
});

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** A blob source over bytes in memory, looked up by digest (no verification: callers verify). */
function memorySource(blobs: Uint8Array[]): BlobSource {
  const byDigest = new Map(blobs.map((b) => [sha256(b), b]));
  return {
    blob: async (descriptor) => {
      const bytes = byDigest.get(String(descriptor.digest));
      if (!bytes) throw new Error(`test source has no ${String(descriptor.digest)}`);
      return Readable.from([bytes]);
    },
  };
}

const TRAVERSALS = [
  "sha256:../../outside/secret",
  "sha256:..%2F..%2Foutside",
  "../../outside/secret",
  `sha256:${"a".repeat(62)}/..`,
  "sha256:..\\..\\outside\\secret",
  `sha512:../${"a".repeat(125)}`,
  "/etc/passwd",
];

describe("hostile: layouts", () => {
  it.each(TRAVERSALS)("index.json naming %s: refused before any path is built", async (digest) => {
    const root = join(sandbox, "layout");
    await mkdir(join(root, "blobs", "sha256"), { recursive: true });
    await writeFile(join(root, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(
      join(root, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: MediaType.OCI_MANIFEST, size: 10, digest }],
      }),
    );
    await hostileRun(
      layoutTally,
      `index.json ${digest}`,
      sandbox,
      { expect: "typed" },
      async () => {
        const layout = await openLayout(root);
        await layout.garbageCollect();
      },
    );
    expectClean(layoutTally);
  });

  it.each(TRAVERSALS)("a descriptor naming %s reaching every write", async (digest) => {
    const layout = await createLayout(join(sandbox, "layout"));
    const forged = { toString: () => digest, toJSON: () => digest } as unknown as Hash;
    const descriptor = {
      mediaType: MediaType.OCI_MANIFEST,
      size: 2,
      digest,
    } as unknown as Descriptor;
    const writes: [string, () => Promise<unknown>][] = [
      ["appendDescriptor", () => layout.appendDescriptor(descriptor)],
      [
        "appendDescriptor (forged Hash)",
        () => layout.appendDescriptor({ ...descriptor, digest: forged }),
      ],
      ["writeBlob", () => layout.writeBlob(Buffer.from("{}"), { digest })],
      ["removeBlob", () => layout.removeBlob(digest)],
      ["blob", () => layout.blob(digest)],
      ["removeDescriptors", () => layout.removeDescriptors(digest)],
    ];
    for (const [what, write] of writes) {
      await hostileRun(
        layoutTally,
        `${what} ${digest}`,
        sandbox,
        { expect: what === "removeDescriptors" ? "either" : "typed", allowed: ["layout"] },
        async () => {
          await write();
        },
      );
    }
    // The layout itself is still whole and lists nothing.
    expect((await (await openLayout(layout.path)).indexManifest()).manifests).toEqual([]);
    expectClean(layoutTally);
  });

  it.each(TRAVERSALS)("an image whose layer claims the digest %s", async (digest) => {
    const layout = await createLayout(join(sandbox, "layout"));
    const real = randomImage({ layers: 1, seed: 21 });
    const manifest = JSON.parse(Buffer.from(await real.rawManifest()).toString());
    manifest.layers[0].digest = digest;
    const raw = json(manifest);
    const [realLayer] = await real.layers();
    const forged = { toString: () => digest, toJSON: () => digest } as unknown as Hash;
    const lying: Layer = {
      ...(realLayer as Layer),
      digest: async () => forged,
      diffID: () => (realLayer as Layer).diffID(),
      size: () => (realLayer as Layer).size(),
      mediaType: () => (realLayer as Layer).mediaType(),
      compressed: () => (realLayer as Layer).compressed(),
      uncompressed: () => (realLayer as Layer).uncompressed(),
    };
    const hostile: Image = {
      ...real,
      mediaType: () => real.mediaType(),
      size: async () => raw.length,
      digest: async () => Hash.compute(raw),
      rawManifest: async () => raw,
      manifest: async () => manifest,
      rawConfigFile: () => real.rawConfigFile(),
      configFile: () => real.configFile(),
      configName: () => real.configName(),
      layers: async () => [lying],
      layerByDigest: async () => lying,
      layerByDiffID: async () => lying,
    };
    await hostileRun(
      layoutTally,
      `appendImage with layer ${digest}`,
      sandbox,
      { expect: "typed", allowed: ["layout"] },
      async () => {
        await layout.appendImage(hostile, { refName: "evil" });
      },
    );
    const listed = (await (await openLayout(layout.path)).indexManifest()).manifests;
    expect(listed).toEqual([]);
    expectClean(layoutTally);
  });

  it("an index that contains itself (its source lies about digests)", async () => {
    const layout = await createLayout(join(sandbox, "layout"));
    // The child's digest is claimed, not computed: only a lying source can serve a cycle.
    const claimed = `sha256:${"c".repeat(64)}`;
    const raw = json({
      schemaVersion: 2,
      mediaType: MediaType.OCI_INDEX,
      manifests: [{ mediaType: MediaType.OCI_INDEX, size: 300, digest: claimed }],
    });
    const cyclic: ImageIndex = createImageIndex({
      rawManifest: raw,
      source: {
        blob: async () => Readable.from([raw]),
        manifest: async () => raw,
      },
    });
    await hostileRun(
      layoutTally,
      "appendIndex of a self-containing index",
      sandbox,
      { expect: "typed", allowed: ["layout"] },
      async () => {
        await layout.appendIndex(cyclic, { refName: "cycle" });
      },
    );
    expectClean(layoutTally);
  });

  it("a layout whose index blobs refer to each other in a cycle (names not matching content)", async () => {
    const root = join(sandbox, "layout");
    await mkdir(join(root, "blobs", "sha256"), { recursive: true });
    await writeFile(join(root, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    const entry = (hex: string) => ({
      mediaType: MediaType.OCI_INDEX,
      size: 200,
      digest: `sha256:${hex}`,
    });
    const blobA = json({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [entry(b)] });
    const blobB = json({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [entry(a)] });
    await writeFile(join(root, "blobs", "sha256", a), blobA);
    await writeFile(join(root, "blobs", "sha256", b), blobB);
    await writeFile(
      join(root, "index.json"),
      JSON.stringify({ schemaVersion: 2, manifests: [{ ...entry(a), size: blobA.length }] }),
    );
    const reads: [string, () => Promise<unknown>][] = [
      [
        "findDescriptors recursive",
        async () => (await openLayout(root)).findDescriptors(() => true, { recursive: true }),
      ],
      [
        "image by platform",
        async () =>
          (await openLayout(root)).image((d) => d.digest !== undefined, {
            platform: "linux/amd64",
          }),
      ],
      ["garbageCollect", async () => (await openLayout(root)).garbageCollect()],
    ];
    for (const [what, read] of reads) {
      await hostileRun(
        layoutTally,
        `cyclic layout: ${what}`,
        sandbox,
        // Garbage collection may remove what it cannot reach; nothing else may change.
        { expect: "typed", allowed: what === "garbageCollect" ? ["layout"] : [] },
        async () => {
          await read();
        },
      );
    }
    expectClean(layoutTally);
  });

  it("absurd nesting: indexes thousands of levels deep, in memory and on disk", async () => {
    const depth = size.full ? 5_000 : 200;
    const leaf = randomImage({
      layers: 1,
      seed: 22,
      platform: { os: "linux", architecture: "arm64" },
    });
    let index: ImageIndex = appendManifests(emptyIndex(), [leaf]);
    for (let level = 1; level < depth; level++) index = appendManifests(emptyIndex(), [index]);
    const root = join(sandbox, "layout");
    const layout = await createLayout(root);
    await hostileRun(
      layoutTally,
      `appendIndex ${depth} deep`,
      sandbox,
      { expect: "typed", allowed: ["layout"] },
      async () => {
        await layout.appendIndex(index, { refName: "deep" });
      },
    );
    // On disk: a chain of valid index blobs, each naming the one below, written by hand.
    let child = await layout.writeImage(leaf);
    for (let level = 0; level < depth; level++) {
      const bytes = json({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [child] });
      const { digest } = await layout.writeBlob(bytes);
      child = {
        mediaType: MediaType.OCI_INDEX,
        size: bytes.length,
        digest: Hash.parse(String(digest)),
      };
    }
    await layout.appendDescriptor({
      ...child,
      annotations: { "org.opencontainers.image.ref.name": "deep" },
    });
    const reads: [string, HostileCase["expect"], () => Promise<unknown>][] = [
      [
        "image by platform",
        "typed",
        async () => (await openLayout(root)).image("deep", { platform: "linux/arm64" }),
      ],
      [
        "findDescriptors recursive",
        "either",
        async () => (await openLayout(root)).findDescriptors(() => true, { recursive: true }),
      ],
      ["garbageCollect", "either", async () => (await openLayout(root)).garbageCollect()],
    ];
    for (const [what, expected, read] of reads) {
      const before = await treeSnapshot(root);
      await hostileRun(
        layoutTally,
        `${what} through ${depth} levels`,
        sandbox,
        { expect: expected, allowed: ["layout"] },
        async () => {
          await read();
        },
      );
      // Collection must not remove what the chain reaches, nor anything when it gives up.
      const removed = treeChanges(before, await treeSnapshot(root));
      if (removed.length > 0)
        layoutTally.corrupt(`${what}: changed the layout: ${removed.slice(0, 3).join(", ")}`);
    }
    expectClean(layoutTally);
  });

  it("documents over the size cap: a 200k-entry index.json, a 5 MiB manifest blob", async () => {
    const root = join(sandbox, "layout");
    await mkdir(join(root, "blobs", "sha256"), { recursive: true });
    await writeFile(join(root, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const wide = {
      schemaVersion: 2,
      manifests: Array.from({ length: 200_000 }, (_, i) => ({
        mediaType: MediaType.OCI_MANIFEST,
        size: 100,
        digest: `sha256:${i.toString(16).padStart(64, "0")}`,
      })),
    };
    await writeFile(join(root, "index.json"), JSON.stringify(wide));
    await hostileRun(
      layoutTally,
      "index.json of 200k entries",
      sandbox,
      { expect: "typed" },
      async () => {
        await openLayout(root);
      },
    );
    const huge = json({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      config: { mediaType: MediaType.OCI_CONFIG, size: 2, digest: sha256(Buffer.from("{}")) },
      layers: [],
      annotations: { padding: "x".repeat(5 * 1024 * 1024) },
    });
    await writeFile(join(root, "blobs", "sha256", sha256(huge).slice(7)), huge);
    await writeFile(
      join(root, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: MediaType.OCI_MANIFEST, size: huge.length, digest: sha256(huge) }],
      }),
    );
    await hostileRun(
      layoutTally,
      "a 5 MiB manifest blob",
      sandbox,
      { expect: "typed" },
      async () => {
        const image = await (await openLayout(root)).image(() => true);
        await image.manifest();
      },
    );
    expectClean(layoutTally);
  });
});

describe("hostile: export, flatten and docker tarballs", () => {
  /** An image of the given layer blobs (gzip tars), with diffIDs as given or computed. */
  async function imageOf(layers: { blob: Buffer; diffID?: string }[]): Promise<Image> {
    const diffIDs: string[] = [];
    for (const layer of layers) {
      if (layer.diffID) diffIDs.push(layer.diffID);
      else {
        const { gunzipSync } = await import("node:zlib");
        diffIDs.push(sha256(gunzipSync(layer.blob)));
      }
    }
    const config = json({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: diffIDs },
      config: {},
    });
    const manifest = json({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      config: { mediaType: MediaType.OCI_CONFIG, size: config.length, digest: sha256(config) },
      layers: layers.map(({ blob }) => ({
        mediaType: MediaType.OCI_LAYER_GZIP,
        size: blob.length,
        digest: sha256(blob),
      })),
    });
    return createImage({
      rawManifest: manifest,
      source: memorySource([config, ...layers.map((l) => l.blob)]),
    });
  }

  /** No partial file is left beside the target, and a failed export leaves no target at all. */
  const noPartial = (dir: string) => async (failed: boolean) => {
    const names = await readdir(dir).catch(() => [] as string[]);
    return names
      .filter((name) => failed || name !== "fs.tar")
      .map((name) => `left ${name} in the output directory`);
  };

  it("a gzip bomb (about a MiB per GiB it inflates to): export and flatten stop it", async () => {
    // Stopped once a layer inflates past maxCompressionRatio (512) times its compressed size.
    const bomb = await gzipBomb(size.full ? 4 : 1);
    const image = await imageOf([{ blob: bomb, diffID: `sha256:${"0".repeat(64)}` }]);
    await mkdir(join(sandbox, "out"));
    await hostileRun(
      tarballTally,
      "export of a gzip bomb",
      sandbox,
      { expect: "typed", allowed: ["out"], check: noPartial(join(sandbox, "out")) },
      async (signal) => {
        await exportImage(image, join(sandbox, "out", "fs.tar"), { signal });
      },
    );
    await hostileRun(
      tarballTally,
      "flatten of a gzip bomb",
      sandbox,
      { expect: "typed" },
      async () => {
        const flat = await flatten(image);
        const [layer] = await flat.layers();
        for await (const _ of await (layer as Layer).compressed()) {
          // drain
        }
      },
    );
    expectClean(tarballTally);
  });

  it.each([
    ["a parent-directory name", [{ name: "../../outside/evil", content: "x" }]],
    ["an absolute name", [{ name: "/outside/evil", content: "x" }]],
    ["a name climbing mid-way", [{ name: "a/../../outside/evil", content: "x" }]],
    [
      "a hard link out of the root",
      [{ name: "h", type: "1" as const, linkname: "../../outside/secret" }],
    ],
    [
      "a write beneath its own symlink",
      [
        { name: "link", type: "2" as const, linkname: "../../outside" },
        { name: "link/evil", content: "x" },
      ],
    ],
    ["a NUL in a (pax) name", [paxEntry({ path: "a\0/../../evil" }), { name: "a", content: "x" }]],
    [
      "a pax name climbing out",
      [paxEntry({ path: "../../outside/evil" }), { name: "a", content: "x" }],
    ],
    [
      "a hard link through a symlink",
      [
        { name: "d", type: "2" as const, linkname: "/" },
        { name: "h", type: "1" as const, linkname: "d/etc/passwd" },
      ],
    ],
  ])("a layer with %s: export and flatten refuse it", async (what, entries) => {
    const layer = await gzip(rawTar(entries));
    const image = await imageOf([{ blob: layer }]);
    await mkdir(join(sandbox, "out"));
    await hostileRun(
      tarballTally,
      `export: ${what}`,
      sandbox,
      { expect: "typed", allowed: ["out"], check: noPartial(join(sandbox, "out")) },
      async () => {
        await exportImage(image, join(sandbox, "out", "fs.tar"));
      },
    );
    await hostileRun(tarballTally, `flatten: ${what}`, sandbox, { expect: "typed" }, async () => {
      const [flat] = await (await flatten(image)).layers();
      for await (const _ of await (flat as Layer).compressed()) {
        // drain
      }
    });
    expectClean(tarballTally);
  });

  it.each([
    ["a layer path out of the archive", { Layers: ["../../outside/secret"] }],
    ["an absolute config path", { Config: "/etc/passwd" }],
    ["a layer that is a symlink out", { Layers: ["escape.tar"] }],
    ["a layer in a link cycle", { Layers: ["loop-a"] }],
  ])("a docker tarball with %s", async (what, override) => {
    const layer = rawTar([{ name: "file", content: "hello" }]);
    const config = json({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    });
    const manifest = [
      { Config: "config.json", RepoTags: ["evil:latest"], Layers: ["layer.tar"], ...override },
    ];
    const archive = rawTar([
      { name: "config.json", content: config },
      { name: "layer.tar", content: layer },
      { name: "escape.tar", type: "2", linkname: "../../outside/secret" },
      { name: "loop-a", type: "2", linkname: "loop-b" },
      { name: "loop-b", type: "2", linkname: "loop-a" },
      { name: "manifest.json", content: JSON.stringify(manifest) },
    ]);
    const path = join(sandbox, "in.tar");
    await writeFile(path, archive);
    await hostileRun(tarballTally, `tarball: ${what}`, sandbox, { expect: "typed" }, async () => {
      await readWholeTarball(path);
    });
    expectClean(tarballTally);
  });

  it("a docker tarball cut short at every 97th byte: refused, from a path and from a stream", async () => {
    const layer = rawTar([{ name: "file", content: "x".repeat(3000) }]);
    const config = json({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    });
    const archive = rawTar([
      { name: "config.json", content: config },
      { name: "layer.tar", content: layer },
      {
        name: "manifest.json",
        content: JSON.stringify([{ Config: "config.json", RepoTags: null, Layers: ["layer.tar"] }]),
      },
    ]);
    // Cut before the end-of-archive blocks: every cut loses at least part of an entry.
    const end = archive.length - 1024;
    for (let cut = 0; cut < end; cut += 97) {
      const path = join(sandbox, "cut.tar");
      await writeFile(path, archive.subarray(0, cut));
      const useStream = cut % 2 === 0;
      await hostileRun(
        tarballTally,
        `tarball cut at ${cut} (${useStream ? "stream" : "path"})`,
        sandbox,
        { expect: "typed", allowed: ["cut.tar"] },
        async () => {
          await readWholeTarball(useStream ? Readable.from([archive.subarray(0, cut)]) : path);
        },
      );
    }
    expectClean(tarballTally);
  });
});
