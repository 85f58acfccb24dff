import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  appendLayers,
  appendManifests,
  emptyIndex,
  Hash,
  type Image,
  type Layer,
  layerFromBytes,
  layerFromStream,
  MediaType,
  randomImage,
  randomIndex,
  setAnnotations,
} from "@hoist/oci";
import { describe, expect, it } from "vitest";
import {
  createLayout,
  IMAGE_LAYOUT_VERSION,
  imageIndexFromPath,
  type LayoutProgress,
  matchPlatforms,
  openLayout,
  REF_NAME_ANNOTATION,
  writeLayout,
} from "../src/index.js";
import {
  controlledLayer,
  imageDigests,
  indexDigests,
  layerAt,
  readAllLayers,
  useTempDirectories,
} from "./helpers.js";

const tempDirectory = useTempDirectories("round-trip");

async function blobNames(root: string): Promise<string[]> {
  return (await readdir(join(root, "blobs", "sha256"))).sort();
}

describe("round trips", () => {
  it("creates a layout as the spec and go-containerregistry lay it out", async () => {
    const root = join(await tempDirectory(), "new");
    const layout = await createLayout(root);
    expect(layout.path).toBe(root);
    expect(JSON.parse(await readFile(join(root, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: IMAGE_LAYOUT_VERSION,
    });
    const indexText = await readFile(join(root, "index.json"), "utf8");
    // Three-space indentation, as go-containerregistry writes index.json.
    expect(indexText).toBe(
      `{\n   "schemaVersion": 2,\n   "mediaType": "${MediaType.OCI_INDEX}",\n   "manifests": []\n}\n`,
    );
    expect(await readdir(join(root, "blobs"))).toEqual([]);
    // Opening again, and creating again, find the same empty layout.
    expect((await (await openLayout(root)).indexManifest()).manifests).toEqual([]);
    expect((await (await createLayout(root)).indexManifest()).manifests).toEqual([]);
  });

  it.each([
    ["OCI", MediaType.OCI_MANIFEST],
    ["Docker", MediaType.DOCKER_MANIFEST],
  ] as const)(
    "writes a %s image and reads back every digest and byte",
    async (_name, mediaType) => {
      const layout = await createLayout(await tempDirectory());
      const image = randomImage({ layers: 3, layerSize: 2000, seed: mediaType, mediaType });
      const entry = await layout.appendImage(image, { refName: "v1" });

      expect(entry).toEqual({
        mediaType,
        size: await image.size(),
        digest: await image.digest(),
        annotations: { [REF_NAME_ANNOTATION]: "v1" },
      });
      const expected = await imageDigests(image);
      expect(await blobNames(layout.path)).toEqual(
        [...new Set(expected)].map((digest) => digest.slice("sha256:".length)).sort(),
      );

      const back = await (await openLayout(layout.path)).image("v1");
      expect(await imageDigests(back)).toEqual(expected);
      expect(await back.mediaType()).toBe(mediaType);
      expect(Buffer.from(await back.rawManifest())).toEqual(Buffer.from(await image.rawManifest()));
      expect(Buffer.from(await back.rawConfigFile())).toEqual(
        Buffer.from(await image.rawConfigFile()),
      );
      expect(await readAllLayers(back)).toEqual(await readAllLayers(image));
      for (const [position, layer] of (await back.layers()).entries()) {
        const tar = await buffer(await layer.uncompressed());
        expect(Hash.compute(tar).equals(await layer.diffID())).toBe(true);
        expect(String(await layer.diffID())).toBe(
          String((await image.configFile()).rootfs?.diff_ids[position]),
        );
      }
    },
  );

  it("writes nested and multi-platform indexes and reads them back digest for digest", async () => {
    const layout = await createLayout(await tempDirectory());
    const platforms = [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
      { os: "linux", architecture: "arm", variant: "v7" },
    ];
    const inner = randomIndex({ images: 3, layers: 2, seed: "inner", platforms });
    const outer = appendManifests(emptyIndex(), [
      inner,
      randomImage({ layers: 1, seed: "sibling" }),
    ]);
    await layout.appendIndex(outer, { refName: "nested" });
    const docker = randomIndex({
      images: 2,
      seed: "docker",
      mediaType: MediaType.DOCKER_MANIFEST_LIST,
    });
    await layout.appendIndex(docker, { refName: "list" });

    const reopened = await openLayout(layout.path);
    expect(await indexDigests(await reopened.index("nested"))).toEqual(await indexDigests(outer));
    expect(await indexDigests(await reopened.index("list"))).toEqual(await indexDigests(docker));
    expect(await (await reopened.index("list")).mediaType()).toBe(MediaType.DOCKER_MANIFEST_LIST);
    const { manifests } = await inner.indexManifest();
    // A matcher searches nested indexes level by level.
    const arm = await reopened.image(matchPlatforms(["linux/arm/v7"]));
    expect(String(await arm.digest())).toBe(String(manifests[2]?.digest));
    // A platform picks as a pull does: the inner index has no platform, so it counts as
    // linux/amd64, and inside it the amd64 image is chosen.
    const amd = await reopened.image("nested", { platform: "linux/amd64" });
    expect(String(await amd.digest())).toBe(String(manifests[0]?.digest));
  });

  it("writeLayout makes index.json the index's own bytes, so its digest is kept", async () => {
    const index = randomIndex({ images: 2, layers: 2, seed: "whole" });
    const root = join(await tempDirectory(), "whole");
    const layout = await writeLayout(root, index);
    expect(Buffer.from(await readFile(join(root, "index.json")))).toEqual(
      Buffer.from(await index.rawManifest()),
    );
    const read = await imageIndexFromPath(root);
    expect(String(await read.digest())).toBe(String(await index.digest()));
    expect(await indexDigests(read)).toEqual(await indexDigests(index));
    // The top index is index.json, not a blob.
    expect(await layout.hasBlob(await index.digest())).toBe(false);
  });

  it("writes a layer whose digest is known only after reading it, under its final digest", async () => {
    const layout = await createLayout(await tempDirectory());
    const tar = await buffer(await (await layerAt(randomImage({ seed: "tar" }), 0)).uncompressed());
    const chunks = [tar.subarray(0, 700), tar.subarray(700)];
    const streamed = layerFromStream(Readable.from(chunks), { compression: "gzip" });
    const image = appendLayers(randomImage({ layers: 1, seed: "base" }), [streamed]);
    const progress: LayoutProgress[] = [];
    const entry = await layout.appendImage(image, {
      refName: "streamed",
      onProgress: (p) => progress.push(p),
    });

    expect(streamed.computed).toBe(true);
    const digests = await streamed.whenComputed();
    expect(await layout.hasBlob(digests.digest, { verify: true })).toBe(true);
    expect(String(entry.digest)).toBe(String(await image.digest()));
    const back = await layout.image("streamed");
    expect(await imageDigests(back)).toEqual(await imageDigests(image));
    const last = await layerAt(back, 1);
    expect(Buffer.from(await buffer(await last.uncompressed()))).toEqual(tar);
    const final = progress.at(-1);
    expect(final?.writtenBytes).toBe(final?.totalBytes);
    const sizes = (
      await Promise.all(
        (
          await readdir(join(layout.path, "blobs", "sha256"))
        ).map(
          async (name) => (await readFile(join(layout.path, "blobs", "sha256", name))).byteLength,
        ),
      )
    ).reduce((a, b) => a + b, 0);
    expect(final?.writtenBytes).toBe(sizes);
    // No temporary file is left in the root.
    expect((await readdir(layout.path)).sort()).toEqual(["blobs", "index.json", "oci-layout"]);
  });

  it("writes a blob shared by several images once and reports progress up to the total", async () => {
    const layout = await createLayout(await tempDirectory());
    const tarball = await buffer(
      await (await layerAt(randomImage({ seed: "shared" }), 0)).compressed(),
    );
    const shared = layerFromBytes(tarball);
    let opens = 0;
    const counted: Layer = {
      digest: (o) => shared.digest(o),
      diffID: (o) => shared.diffID(o),
      size: (o) => shared.size(o),
      mediaType: (o) => shared.mediaType(o),
      uncompressed: (o) => shared.uncompressed(o),
      compressed: async (o) => {
        opens++;
        return shared.compressed(o);
      },
    };
    const one = appendLayers(randomImage({ layers: 1, seed: "one" }), [counted]);
    const two = appendLayers(randomImage({ layers: 1, seed: "two" }), [counted]);
    const index = appendManifests(emptyIndex(), [one, two]);
    const progress: LayoutProgress[] = [];
    await layout.appendIndex(index, { onProgress: (p) => progress.push(p), concurrency: 1 });
    const blobs = await blobNames(layout.path);
    const distinct = new Set([
      ...(await imageDigests(one)),
      ...(await imageDigests(two)),
      String(await index.digest()),
    ]);
    expect(blobs).toHaveLength(distinct.size);
    const total = (
      await Promise.all(
        blobs.map(
          async (name) => (await readFile(join(layout.path, "blobs", "sha256", name))).byteLength,
        ),
      )
    ).reduce((a, b) => a + b, 0);
    expect(progress.at(-1)).toEqual({ writtenBytes: total, totalBytes: total });
    // The total is known before the first byte is written and never changes for known blobs.
    expect(new Set(progress.map((p) => p.totalBytes))).toEqual(new Set([total]));
    expect(progress.map((p) => p.writtenBytes)).toEqual(
      [...progress.map((p) => p.writtenBytes)].sort((a, b) => a - b),
    );
    expect(opens).toBe(1);
  });

  it("keeps a verified blob that is already present without reading the source again", async () => {
    const layout = await createLayout(await tempDirectory());
    const bytes = Buffer.from("layer bytes that are already in the layout");
    await layout.writeBlob(bytes);
    const layer = controlledLayer(bytes, () => {
      throw new Error("the source must not be opened for a blob that is present");
    });
    const image = appendLayers(randomImage({ layers: 0, seed: "present" }), [layer]);
    const progress: LayoutProgress[] = [];
    await layout.appendImage(image, { onProgress: (p) => progress.push(p) });
    expect(await layout.hasBlob(Hash.compute(bytes), { verify: true })).toBe(true);
    expect(progress.at(-1)?.writtenBytes).toBe(progress.at(-1)?.totalBytes);
  });

  it("checks for present blobs once per directory: one that lands during the write is written again, intact", async () => {
    const layout = await createLayout(await tempDirectory());
    const present = Buffer.from("a blob in the layout before the write starts");
    const first = Buffer.from("the first layer's bytes");
    const second = Buffer.from("the second layer's bytes, added by another writer mid-way");
    await layout.writeBlob(present);
    const opened: string[] = [];
    const image = appendLayers(randomImage({ layers: 0, seed: "listing" }), [
      controlledLayer(present, () => {
        throw new Error("a blob listed and valid must not be read again");
      }),
      controlledLayer(first, async () => {
        opened.push("first");
        // Another writer adds the second layer after this run listed the directory.
        await layout.writeBlob(second);
        return Readable.from([first]);
      }),
      controlledLayer(second, () => {
        opened.push("second");
        return Readable.from([second]);
      }),
    ]);
    await layout.appendImage(image, { concurrency: 1 });
    expect(opened).toEqual(["first", "second"]);
    for (const bytes of [present, first, second]) {
      expect(await layout.hasBlob(Hash.compute(bytes), { verify: true })).toBe(true);
    }
  });

  it("replaces a corrupt copy of a blob instead of trusting it", async () => {
    const layout = await createLayout(await tempDirectory());
    const image = randomImage({ layers: 1, seed: "heal" });
    const layer = await layerAt(image, 0);
    const digest = await layer.digest();
    const path = join(layout.path, "blobs", "sha256", digest.hex);
    await layout.writeBlob(Buffer.from("x"));
    await writeFile(path, Buffer.alloc(await layer.size(), 1)); // right size, wrong bytes
    expect(await layout.hasBlob(digest)).toBe(true);
    expect(await layout.hasBlob(digest, { verify: true })).toBe(false);
    await layout.appendImage(image);
    expect(await layout.hasBlob(digest, { verify: true })).toBe(true);
  });

  it("writes raw blobs with and without a known digest", async () => {
    const layout = await createLayout(await tempDirectory());
    const bytes = Buffer.from("hello, layout");
    const computed = await layout.writeBlob(
      Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]),
    );
    expect(computed).toEqual({ digest: Hash.compute(bytes), size: bytes.length, written: true });
    const again = await layout.writeBlob(bytes, {
      digest: Hash.compute(bytes),
      size: bytes.length,
    });
    expect(again).toEqual({ digest: Hash.compute(bytes), size: bytes.length, written: false });
    expect(Buffer.from(await layout.blobBytes(computed.digest))).toEqual(bytes);
    expect(await buffer(await layout.blob(String(computed.digest)))).toEqual(bytes);
    const sha512 = await layout.writeBlob(bytes, { algorithm: "sha512" });
    expect(sha512.digest.algorithm).toBe("sha512");
    expect(await readFile(join(layout.path, "blobs", "sha512", sha512.digest.hex))).toEqual(bytes);
    expect(await layout.removeBlob(sha512.digest)).toBe(true);
    expect(await layout.removeBlob(sha512.digest)).toBe(false);
    expect(await layout.hasBlob(sha512.digest)).toBe(false);
  });

  it("keeps what other writers put into index.json and the descriptor fields it does not know", async () => {
    const layout = await createLayout(await tempDirectory());
    const image: Image = setAnnotations(randomImage({ seed: "ann" }), { a: "b" });
    await layout.appendImage(image, {
      refName: "example.com/app:1.0",
      annotations: { "org.example.note": "kept" },
      platform: "linux/arm64/v8",
      urls: ["https://mirror.example/blob"],
    });
    const path = join(layout.path, "index.json");
    const edited = JSON.parse(await readFile(path, "utf8"));
    edited.annotations = { "org.example.layout": "yes" };
    edited.manifests[0]["org.example.unknown"] = { nested: [1, 2] };
    await writeFile(path, JSON.stringify(edited));
    await layout.appendImage(randomImage({ seed: "second" }), { refName: "second" });
    const after = JSON.parse(await readFile(path, "utf8"));
    expect(after.annotations).toEqual({ "org.example.layout": "yes" });
    expect(after.manifests[0]).toEqual({
      mediaType: MediaType.OCI_MANIFEST,
      size: await image.size(),
      digest: String(await image.digest()),
      annotations: { "org.example.note": "kept", [REF_NAME_ANNOTATION]: "example.com/app:1.0" },
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
      urls: ["https://mirror.example/blob"],
      "org.example.unknown": { nested: [1, 2] },
    });
    expect(after.manifests[1].annotations).toEqual({ [REF_NAME_ANNOTATION]: "second" });
  });

  it("takes the entry's platform from the image config when asked", async () => {
    const layout = await createLayout(await tempDirectory());
    const image = randomImage({
      seed: "platform",
      platform: { os: "linux", architecture: "s390x" },
    });
    const entry = await layout.appendImage(image, { platformFromConfig: true });
    expect(entry.platform).toEqual({ os: "linux", architecture: "s390x" });
    const given = await layout.appendImage(image, {
      platformFromConfig: true,
      platform: "linux/ppc64le",
    });
    expect(given.platform).toEqual({ os: "linux", architecture: "ppc64le" });
  });

  it("runs appends concurrently on one layout without losing an entry", async () => {
    const layout = await createLayout(await tempDirectory());
    const images = Array.from({ length: 8 }, (_, n) => randomImage({ layers: 2, seed: `c${n}` }));
    await Promise.all(images.map((image, n) => layout.appendImage(image, { refName: `v${n}` })));
    const { manifests } = await layout.indexManifest();
    expect(manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).sort()).toEqual(
      images.map((_, n) => `v${n}`).sort(),
    );
    for (const [n, image] of images.entries()) {
      expect(await imageDigests(await layout.image(`v${n}`))).toEqual(await imageDigests(image));
    }
  });
});
