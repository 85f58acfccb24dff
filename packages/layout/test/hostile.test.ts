import { mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  appendLayers,
  type Descriptor,
  Hash,
  type Image,
  type Layer,
  MediaType,
  randomImage,
} from "@hoist/oci";
import { beforeEach, describe, expect, it } from "vitest";
import { createLayout, type Layout, openLayout, REF_NAME_ANNOTATION } from "../src/index.js";
import { layerAt, layoutFailure, ociFailure, snapshot, useTempDirectories } from "./helpers.js";

const tempDirectory = useTempDirectories("hostile");

// Every test works in a sandbox: the layout under test, a directory "outside" with a file that
// must never change, and whatever else the test adds. Snapshots of the whole sandbox prove that
// nothing outside the layout (and, for reads, nothing at all) was written.
let sandbox: string;
let outside: string;
beforeEach(async () => {
  sandbox = await tempDirectory();
  outside = join(sandbox, "outside");
  await mkdir(outside);
  await writeFile(join(outside, "secret"), "must not change");
});

function outsideOf(tree: Record<string, string>, layoutName: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tree).filter(
      ([path]) => path !== layoutName && !path.startsWith(`${layoutName}/`),
    ),
  );
}

async function handMadeLayout(
  name: string,
  index: unknown,
  layoutFile = '{"imageLayoutVersion":"1.0.0"}',
) {
  const root = join(sandbox, name);
  await mkdir(join(root, "blobs", "sha256"), { recursive: true });
  await writeFile(join(root, "oci-layout"), layoutFile);
  await writeFile(
    join(root, "index.json"),
    typeof index === "string" ? index : JSON.stringify(index),
  );
  return root;
}

const entry = (digest: unknown) => ({
  schemaVersion: 2,
  manifests: [{ mediaType: MediaType.OCI_MANIFEST, size: 10, digest }],
});

describe("hostile index.json", () => {
  it.each([
    ["a path in the hex part", "sha256:../../outside/secret"],
    ["a path as the digest", "../../outside/secret"],
    ["a slash instead of the colon", `sha256/${"a".repeat(64)}`],
    ["uppercase hex", `sha256:${"A".repeat(64)}`],
    ["a short hex part", "sha256:abc"],
    ["an unsupported algorithm", `md5:${"a".repeat(32)}`],
    ["an absolute path", `/etc/passwd`],
    ["a number", 42],
    ["nothing", undefined],
  ])("refuses a digest with %s before building any path", async (_what, digest) => {
    const root = await handMadeLayout("layout", entry(digest));
    const before = await snapshot(sandbox);
    const error = await layoutFailure(openLayout(root), "HOIST_LAYOUT_INVALID_INDEX");
    expect(error.message).toContain("manifests[0].digest");
    expect(await snapshot(sandbox)).toEqual(before);
  });

  it.each([
    ["not JSON", "{not json"],
    ["an array", "[]"],
    ["no manifests", '{"schemaVersion":2}'],
    ["schema version 1", '{"schemaVersion":1,"manifests":[]}'],
    [
      "an image manifest",
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        config: {},
        layers: [],
      }),
    ],
    [
      "deep nesting",
      `{"schemaVersion":2,"manifests":[],"x":${"[".repeat(1000)}${"]".repeat(1000)}}`,
    ],
    ["invalid UTF-8", Buffer.from([0x7b, 0xff, 0x7d]).toString("latin1")],
    [
      "a negative size",
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { mediaType: MediaType.OCI_MANIFEST, size: -1, digest: String(Hash.compute("x")) },
        ],
      }),
    ],
  ])("refuses index.json that is %s", async (_what, text) => {
    const root = await handMadeLayout("layout", "{}");
    await writeFile(
      join(root, "index.json"),
      Buffer.from(text, _what === "invalid UTF-8" ? "latin1" : "utf8"),
    );
    const before = await snapshot(sandbox);
    await layoutFailure(openLayout(root), "HOIST_LAYOUT_INVALID_INDEX");
    expect(await snapshot(sandbox)).toEqual(before);
  });

  it("refuses an index.json over the cap without reading it, and accepts it with a higher cap", async () => {
    const manifests = Array.from({ length: 4000 }, (_, n) => ({
      mediaType: MediaType.OCI_MANIFEST,
      size: n,
      digest: String(Hash.compute(String(n))),
      annotations: { [REF_NAME_ANNOTATION]: `tag-${n}`, padding: "x".repeat(200) },
    }));
    const root = await handMadeLayout("layout", { schemaVersion: 2, manifests });
    const size = (await readFile(join(root, "index.json"))).byteLength;
    expect(size).toBeGreaterThan(1024 * 1024);
    const error = await layoutFailure(
      openLayout(root, { maxManifestBytes: 1024 * 1024 }),
      "HOIST_LAYOUT_INVALID_INDEX",
    );
    expect(error.message).toContain(`${size} bytes`);
    const layout = await openLayout(root, { maxManifestBytes: 2 * 1024 * 1024 });
    expect((await layout.indexManifest()).manifests).toHaveLength(4000);
  });

  it("reports a missing index.json, a missing or wrong oci-layout and a path that is no layout", async () => {
    const root = await handMadeLayout("layout", entry(String(Hash.compute("x"))));
    await rm(join(root, "index.json"));
    await layoutFailure(openLayout(root), "HOIST_LAYOUT_MISSING_INDEX");
    await layoutFailure(createLayout(root), "HOIST_LAYOUT_MISSING_INDEX");
    await writeFile(join(root, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    await writeFile(join(root, "oci-layout"), '{"imageLayoutVersion":"2.0.0"}');
    const version = await layoutFailure(openLayout(root), "HOIST_LAYOUT_UNSUPPORTED_VERSION");
    expect(version.message).toContain('"2.0.0"');
    await layoutFailure(createLayout(root), "HOIST_LAYOUT_UNSUPPORTED_VERSION");
    for (const bad of ["[]", "{}", '{"imageLayoutVersion":1}', "not json", "x".repeat(70_000)]) {
      await writeFile(join(root, "oci-layout"), bad);
      await layoutFailure(openLayout(root), "HOIST_LAYOUT_INVALID_LAYOUT_FILE");
    }
    await rm(join(root, "oci-layout"));
    await layoutFailure(openLayout(root), "HOIST_LAYOUT_NOT_A_LAYOUT");
    await layoutFailure(createLayout(root), "HOIST_LAYOUT_NOT_EMPTY");
    await layoutFailure(openLayout(join(sandbox, "nowhere")), "HOIST_LAYOUT_NOT_A_LAYOUT");
    await layoutFailure(openLayout(join(outside, "secret")), "HOIST_LAYOUT_NOT_A_LAYOUT");
    await layoutFailure(createLayout(join(outside, "secret")), "HOIST_LAYOUT_NOT_A_LAYOUT");
    await layoutFailure(createLayout(outside), "HOIST_LAYOUT_NOT_EMPTY");
    expect(await readFile(join(outside, "secret"), "utf8")).toBe("must not change");
  });
});

describe("hostile blobs", () => {
  let layout: Layout;
  let image: Image;
  beforeEach(async () => {
    layout = await createLayout(join(sandbox, "layout"));
    image = randomImage({ layers: 2, layerSize: 3000, seed: "victim" });
    await layout.appendImage(image, { refName: "victim" });
  });
  const blobFile = (digest: Hash) => join(sandbox, "layout", "blobs", digest.algorithm, digest.hex);

  it("reports a missing layer, config or manifest blob when it is read", async () => {
    const layer = await layerAt(image, 1);
    await rm(blobFile(await layer.digest()));
    const back = await layout.image("victim");
    const missing = await layoutFailure(
      (await layerAt(back, 1)).compressed(),
      "HOIST_LAYOUT_BLOB_NOT_FOUND",
    );
    expect(missing.digest).toBe(String(await layer.digest()));
    await rm(blobFile(await image.configName()));
    await layoutFailure(back.configFile(), "HOIST_LAYOUT_BLOB_NOT_FOUND");
    await rm(blobFile(await image.digest()));
    await layoutFailure(layout.image("victim"), "HOIST_LAYOUT_BLOB_NOT_FOUND");
  });

  it("fails on blobs whose bytes do not match their digest, and on truncated ones at once", async () => {
    const layer = await layerAt(image, 0);
    const path = blobFile(await layer.digest());
    const original = await readFile(path);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 0xff;
    await writeFile(path, flipped);
    const back = await layout.image("victim");
    await ociFailure(
      buffer(await (await layerAt(back, 0)).compressed()),
      "HOIST_OCI_DIGEST_MISMATCH",
    );
    await ociFailure(buffer(await layout.blob(await layer.digest())), "HOIST_OCI_DIGEST_MISMATCH");

    await writeFile(path, original.subarray(0, original.length - 10));
    const truncated = await ociFailure(
      (await layerAt(back, 0)).compressed(),
      "HOIST_OCI_SIZE_MISMATCH",
    );
    expect(truncated.message).toContain("truncated");

    await writeFile(blobFile(await image.digest()), Buffer.alloc(await image.size(), 0x20));
    await ociFailure(layout.image("victim"), "HOIST_OCI_DIGEST_MISMATCH");
  });

  it("refuses a manifest that points a layer at a path, before reading it", async () => {
    const manifest = JSON.parse(Buffer.from(await image.rawManifest()).toString("utf8"));
    manifest.layers[0].digest = "sha256:../../../outside/secret";
    const raw = Buffer.from(JSON.stringify(manifest));
    const { digest } = await layout.writeBlob(raw);
    await layout.appendDescriptor({
      mediaType: MediaType.OCI_MANIFEST,
      size: raw.length,
      digest,
      annotations: { [REF_NAME_ANNOTATION]: "evil" },
    });
    const before = await snapshot(sandbox);
    const error = await ociFailure(layout.image("evil"), "HOIST_OCI_INVALID_DOCUMENT");
    expect(error.message).toContain("layers[0].digest");
    // Copying it elsewhere fails the same way, before anything is written.
    const destination = await createLayout(join(sandbox, "copy"));
    const copyBefore = await snapshot(sandbox);
    await ociFailure(
      layout.findImages("evil").then(([found]) => destination.appendImage(found as Image)),
      "HOIST_OCI_INVALID_DOCUMENT",
    );
    expect(await snapshot(sandbox)).toEqual(copyBefore);
    expect(outsideOf(await snapshot(sandbox), "copy")).toEqual(before);
  });

  it("copies nothing of a corrupt layer into another layout and leaves its index.json alone", async () => {
    const layer = await layerAt(image, 1);
    const path = blobFile(await layer.digest());
    const bytes = await readFile(path);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
    const destination = await createLayout(join(sandbox, "copy"));
    const before = await snapshot(sandbox);
    await ociFailure(
      destination.appendImage(await layout.image("victim"), { refName: "copy" }),
      "HOIST_OCI_DIGEST_MISMATCH",
    );
    const after = await snapshot(sandbox);
    expect(outsideOf(after, "copy")).toEqual(outsideOf(before, "copy"));
    expect(after["copy/index.json"]).toBe(before["copy/index.json"]);
    expect(await destination.hasBlob(await layer.digest())).toBe(false);
    expect(await destination.hasBlob(await image.digest())).toBe(false);
    expect(Object.keys(after).filter((path) => path.includes(".hoist-tmp-"))).toEqual([]);
  });
});

describe("writes stay inside the layout", () => {
  it.each(["sha256:../../outside/secret", "../../outside/secret", `sha256:${"a".repeat(63)}/`])(
    "refuses the digest %s in every blob method",
    async (digest) => {
      const layout = await createLayout(join(sandbox, "layout"));
      const before = await snapshot(sandbox);
      await layoutFailure(
        layout.writeBlob(Buffer.from("x"), { digest }),
        "HOIST_LAYOUT_INVALID_DIGEST",
      );
      await layoutFailure(layout.blob(digest), "HOIST_LAYOUT_INVALID_DIGEST");
      await layoutFailure(layout.blobBytes(digest), "HOIST_LAYOUT_INVALID_DIGEST");
      await layoutFailure(layout.hasBlob(digest), "HOIST_LAYOUT_INVALID_DIGEST");
      await layoutFailure(layout.removeBlob(digest), "HOIST_LAYOUT_INVALID_DIGEST");
      expect(await snapshot(sandbox)).toEqual(before);
    },
  );

  it.each([["blobs"], ["blobs/sha256"]])(
    "refuses to write through %s when it links outside the layout",
    async (linked) => {
      const layout = await createLayout(join(sandbox, "layout"));
      await mkdir(join(layout.path, "blobs"), { recursive: true });
      if (linked === "blobs/sha256") await mkdir(join(outside, "sha256-target"));
      await rm(join(layout.path, linked), { recursive: true, force: true });
      await symlink(
        linked === "blobs" ? outside : join(outside, "sha256-target"),
        join(layout.path, linked),
      );
      const before = outsideOf(await snapshot(sandbox), "layout");
      await layoutFailure(
        layout.appendImage(randomImage({ seed: "link" })),
        "HOIST_LAYOUT_UNSAFE_PATH",
      );
      await layoutFailure(layout.writeBlob(Buffer.from("x")), "HOIST_LAYOUT_UNSAFE_PATH");
      await layoutFailure(
        layout.removeBlob(Hash.compute("must not change")),
        "HOIST_LAYOUT_UNSAFE_PATH",
      );
      expect(outsideOf(await snapshot(sandbox), "layout")).toEqual(before);
    },
  );

  it("writes through a blobs link that stays inside the layout", async () => {
    const layout = await createLayout(join(sandbox, "layout"));
    await rm(join(layout.path, "blobs"), { recursive: true });
    await mkdir(join(layout.path, "store"));
    await symlink("store", join(layout.path, "blobs"));
    const image = randomImage({ seed: "inside" });
    await layout.appendImage(image, { refName: "inside" });
    expect(
      await readFile(join(layout.path, "store", "sha256", (await image.digest()).hex)),
    ).toEqual(Buffer.from(await image.rawManifest()));
  });

  it("replaces links at blob and index.json paths instead of writing through them", async () => {
    const layout = await createLayout(join(sandbox, "layout"));
    const image = randomImage({ seed: "through" });
    await mkdir(join(layout.path, "blobs", "sha256"), { recursive: true });
    await symlink(
      join(outside, "secret"),
      join(layout.path, "blobs", "sha256", (await image.digest()).hex),
    );
    await rm(join(layout.path, "index.json"));
    await writeFile(join(outside, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    await symlink(join(outside, "index.json"), join(layout.path, "index.json"));
    const before = outsideOf(await snapshot(sandbox), "layout");
    await layout.appendImage(image, { refName: "through" });
    expect(outsideOf(await snapshot(sandbox), "layout")).toEqual(before);
    expect(await readFile(join(outside, "secret"), "utf8")).toBe("must not change");
    expect(String(await (await layout.image("through")).digest())).toBe(
      String(await image.digest()),
    );
  });

  it("uses only the validated text of a digest, never the fields of a forged object", async () => {
    const layout = await createLayout(join(sandbox, "layout"));
    const bytes = Buffer.from("forged layer");
    const real = Hash.compute(bytes);
    const forged = {
      algorithm: "../../outside",
      hex: "secret",
      toString: () => String(real),
      toJSON: () => String(real),
      equals: (other: unknown) => String(other) === String(real),
    } as unknown as Hash;
    const layer: Layer = {
      digest: async () => forged,
      diffID: async () => real,
      size: async () => bytes.length,
      mediaType: async () => MediaType.OCI_LAYER,
      compressed: async () => Readable.from([bytes]),
      uncompressed: async () => Readable.from([bytes]),
    };
    const before = outsideOf(await snapshot(sandbox), "layout");
    await layout.writeImage(appendLayers(randomImage({ layers: 0, seed: "forged" }), [layer]));
    expect(await layout.hasBlob(real, { verify: true })).toBe(true);
    expect(outsideOf(await snapshot(sandbox), "layout")).toEqual(before);
    const evil = { toString: () => "sha256:../../outside/secret" } as unknown as Hash;
    await layoutFailure(
      layout.appendDescriptor({
        mediaType: MediaType.OCI_MANIFEST,
        size: 1,
        digest: evil,
      } as Descriptor),
      "HOIST_LAYOUT_INVALID_DIGEST",
    );
  });

  it("reports a directory where a blob should be as a read and a write failure", async () => {
    const layout = await createLayout(join(sandbox, "layout"));
    const bytes = Buffer.from("blob in the way");
    const digest = Hash.compute(bytes);
    await mkdir(join(layout.path, "blobs", "sha256", digest.hex, "child"), { recursive: true });
    const read = await layoutFailure(layout.blobBytes(digest), "HOIST_LAYOUT_READ_FAILED");
    expect(read.path).toBe(join(layout.path, "blobs", "sha256", digest.hex));
    const write = await layoutFailure(
      layout.writeBlob(bytes, { digest }),
      "HOIST_LAYOUT_WRITE_FAILED",
    );
    expect(write.cause).toBeDefined();
    expect(write.message).toContain(digest.hex);
    expect((await readdir(layout.path)).filter((name) => name.startsWith(".hoist-tmp-"))).toEqual(
      [],
    );
  });

  it("refuses content that does not match the digest it is written under", async () => {
    const layout = await createLayout(join(sandbox, "layout"));
    const claimed = Hash.compute("what the caller claims");
    const before = await snapshot(sandbox);
    await ociFailure(
      layout.writeBlob(Buffer.from("something else"), { digest: claimed }),
      "HOIST_OCI_DIGEST_MISMATCH",
    );
    await ociFailure(
      layout.writeBlob(Buffer.from("what the caller claims, and more"), {
        digest: claimed,
        size: 22,
      }),
      "HOIST_OCI_SIZE_MISMATCH",
    );
    await ociFailure(
      layout.writeBlob(Buffer.from("short"), { size: 10 }),
      "HOIST_OCI_SIZE_MISMATCH",
    );
    expect(await snapshot(sandbox)).toEqual(before);
  });
});
