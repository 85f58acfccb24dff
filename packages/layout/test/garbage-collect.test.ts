import { mkdir, readdir, rmdir, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  appendLayers,
  appendManifests,
  type Descriptor,
  emptyIndex,
  Hash,
  layerFromBytes,
  MediaType,
  randomImage,
  randomIndex,
} from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { createLayout, type Layout, REF_NAME_ANNOTATION } from "../src/index.js";
import {
  controlledLayer,
  descriptorFor,
  imageDigests,
  indexDigests,
  layerAt,
  layoutFailure,
  snapshot,
  useTempDirectories,
} from "./helpers.js";

const tempDirectory = useTempDirectories("gc");

async function blobSet(layout: Layout): Promise<Set<string>> {
  const result = new Set<string>();
  for (const algorithm of await readdir(join(layout.path, "blobs"))) {
    for (const name of await readdir(join(layout.path, "blobs", algorithm))) {
      result.add(`${algorithm}:${name}`);
    }
  }
  return result;
}

// An artifact that refers to `subject` (a signature, an SBOM): OCI 1.1's referrers.
async function writeArtifact(
  layout: Layout,
  subject: Descriptor,
  payload: string,
): Promise<Descriptor> {
  const config = await layout.writeBlob(Buffer.from("{}"));
  const layer = await layout.writeBlob(Buffer.from(payload));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: "application/vnd.example.signature",
      config: { mediaType: MediaType.OCI_EMPTY, size: config.size, digest: String(config.digest) },
      layers: [
        { mediaType: "application/octet-stream", size: layer.size, digest: String(layer.digest) },
      ],
      subject: { mediaType: subject.mediaType, size: subject.size, digest: String(subject.digest) },
    }),
  );
  await layout.writeBlob(manifest);
  return descriptorFor(manifest, MediaType.OCI_MANIFEST);
}

describe("garbage collection", () => {
  it("removes exactly the blobs that index.json no longer reaches", async () => {
    const layout = await createLayout(await tempDirectory());
    const sharedSource = await layerAt(randomImage({ seed: "shared" }), 0);
    const sharedLayer = layerFromBytes(await buffer(await sharedSource.compressed()));
    const gone = appendLayers(randomImage({ layers: 2, seed: "gone" }), [sharedLayer]);
    const stays = appendLayers(randomImage({ layers: 1, seed: "stays" }), [sharedLayer]);
    const inner = randomIndex({ images: 2, seed: "inner" });
    const outer = appendManifests(emptyIndex(), [inner, randomImage({ seed: "outer-child" })]);
    await layout.appendImage(gone, { refName: "gone" });
    await layout.appendImage(stays, { refName: "stays" });
    await layout.appendIndex(outer, { refName: "outer" });
    const stray = await layout.writeBlob(Buffer.from("nobody refers to me"));
    const straySha512 = await layout.writeBlob(Buffer.from("nor to me"), { algorithm: "sha512" });

    const before = await blobSet(layout);
    const reachable = new Set([...(await imageDigests(stays)), ...(await indexDigests(outer))]);
    const goneOnly = (await imageDigests(gone)).filter((digest) => !reachable.has(digest));
    expect(goneOnly).toHaveLength(4); // manifest, config, two own layers; the shared layer stays

    await layout.removeDescriptors("gone");
    const dry = await layout.garbageCollect({ dryRun: true });
    expect(await blobSet(layout)).toEqual(before);
    const result = await layout.garbageCollect();
    expect(result).toEqual(dry);
    const expectedRemoved = [...goneOnly, String(stray.digest), String(straySha512.digest)].sort();
    expect(result.removed.map((entry) => String(entry.digest))).toEqual(expectedRemoved);
    expect(result.kept).toBe(reachable.size);
    expect(result.removedBytes).toBe(result.removed.reduce((sum, entry) => sum + entry.size, 0));
    expect(await blobSet(layout)).toEqual(reachable);
    // Everything still listed reads back, verified.
    expect(await indexDigests(await layout.index("outer"))).toEqual(await indexDigests(outer));
    expect(await imageDigests(await layout.image("stays"))).toEqual(await imageDigests(stays));
    // A second collection finds nothing.
    expect((await layout.garbageCollect()).removed).toEqual([]);
  });

  it("keeps subjects of referrers and tolerates subjects that are not in the layout", async () => {
    const layout = await createLayout(await tempDirectory());
    const image = randomImage({ layers: 2, seed: "signed" });
    const imageEntry = await layout.writeImage(image);
    const signature = await writeArtifact(layout, imageEntry, "signature");
    await layout.appendDescriptor({ ...signature, annotations: { [REF_NAME_ANNOTATION]: "sig" } });
    const orphan = await writeArtifact(
      layout,
      descriptorFor("elsewhere", MediaType.OCI_MANIFEST),
      "orphan",
    );
    await layout.appendDescriptor(orphan);

    const result = await layout.garbageCollect();
    expect(result.removed).toEqual([]);
    for (const digest of await imageDigests(image)) {
      expect(await layout.hasBlob(digest, { verify: true })).toBe(true);
    }
    // Without the signature, the image it signed goes too.
    await layout.removeDescriptors("sig");
    const after = await layout.garbageCollect();
    expect(after.removed.map((entry) => String(entry.digest))).toEqual(
      expect.arrayContaining([...(await imageDigests(image)), String(signature.digest)]),
    );
  });

  it("follows JSON manifests of unknown media types and keeps opaque blobs", async () => {
    const layout = await createLayout(await tempDirectory());
    const image = randomImage({ layers: 1, seed: "custom" });
    const written = await layout.writeImage(image);
    await layout.appendDescriptor({
      ...written,
      mediaType: "application/vnd.example.manifest+json",
    });
    const opaque = await layout.writeBlob(Buffer.from("opaque"));
    await layout.appendDescriptor({
      mediaType: "application/octet-stream",
      size: opaque.size,
      digest: opaque.digest,
    });
    expect((await layout.garbageCollect()).removed).toEqual([]);
    expect(await blobSet(layout)).toEqual(
      new Set([...(await imageDigests(image)), String(opaque.digest)]),
    );
  });

  it("removes nothing when a manifest it must follow is missing or corrupt", async () => {
    const layout = await createLayout(await tempDirectory());
    const image = randomImage({ layers: 2, seed: "broken" });
    await layout.appendImage(image, { refName: "broken" });
    await layout.writeBlob(Buffer.from("stray"));
    const manifestPath = join(layout.path, "blobs", "sha256", (await image.digest()).hex);

    await writeFile(manifestPath, Buffer.alloc(await image.size(), 0x20));
    let before = await snapshot(layout.path);
    const corrupt = await layoutFailure(layout.garbageCollect(), "HOIST_LAYOUT_GC_INCOMPLETE");
    expect(corrupt.message).toContain(String(await image.digest()));
    expect(await snapshot(layout.path)).toEqual(before);

    await unlink(manifestPath);
    before = await snapshot(layout.path);
    await layoutFailure(layout.garbageCollect(), "HOIST_LAYOUT_GC_INCOMPLETE");
    expect(await snapshot(layout.path)).toEqual(before);
  });

  it("leaves files that are not blobs alone and removes leftovers of interrupted writes", async () => {
    const layout = await createLayout(await tempDirectory());
    await layout.appendImage(randomImage({ seed: "kept" }));
    await writeFile(join(layout.path, "blobs", "sha256", "README"), "not a blob");
    await mkdir(join(layout.path, "blobs", "sha256", "a".repeat(64)));
    await mkdir(join(layout.path, "blobs", "blake3"));
    await writeFile(join(layout.path, "blobs", "blake3", "b".repeat(64)), "unknown algorithm");
    await writeFile(join(layout.path, ".hoist-tmp-0123456789abcdef01234567"), "partial");
    await writeFile(join(layout.path, "notes.txt"), "user file");
    const result = await layout.garbageCollect();
    expect(result.removed).toEqual([]);
    expect(result.removedTemporaryFiles).toEqual([".hoist-tmp-0123456789abcdef01234567"]);
    expect((await readdir(layout.path)).sort()).toEqual([
      "blobs",
      "index.json",
      "notes.txt",
      "oci-layout",
    ]);
    expect(await readdir(join(layout.path, "blobs", "blake3"))).toEqual(["b".repeat(64)]);
    expect(await readdir(join(layout.path, "blobs", "sha256"))).toContain("README");
  });

  it("refuses to collect through a blobs directory that links outside the layout", async () => {
    const sandbox = await tempDirectory();
    const outside = join(sandbox, "outside");
    await mkdir(join(outside, "sha256"), { recursive: true });
    const victim = Hash.compute("victim");
    await writeFile(join(outside, "sha256", victim.hex), "victim");
    const layout = await createLayout(join(sandbox, "layout"));
    await rmdir(join(layout.path, "blobs"));
    await symlink(outside, join(layout.path, "blobs"));
    const before = await snapshot(sandbox);
    await layoutFailure(layout.garbageCollect(), "HOIST_LAYOUT_UNSAFE_PATH");
    expect(await snapshot(sandbox)).toEqual(before);
  });

  it("waits for running writes, so it never removes what an append is about to list", async () => {
    const layout = await createLayout(await tempDirectory());
    const bytes = Buffer.alloc(64 * 1024, 7);
    const stream = new PassThrough();
    const layer = controlledLayer(bytes, () => stream);
    const image = appendLayers(randomImage({ layers: 0, seed: "slow" }), [layer]);
    const append = layout.appendImage(image, { refName: "slow" });
    stream.write(bytes.subarray(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    let collected = false;
    const collection = layout.garbageCollect().then((result) => {
      collected = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(collected).toBe(false);
    stream.end(bytes.subarray(1000));
    await append;
    expect((await collection).removed).toEqual([]);
    expect(await imageDigests(await layout.image("slow"))).toEqual(await imageDigests(image));
  });
});
