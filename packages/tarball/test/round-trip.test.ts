import { createReadStream } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { Tag } from "@hoist/name";
import {
  appendLayers,
  DigestMismatchError,
  emptyImage,
  Hash,
  type Image,
  layerFromStream,
  MediaType,
  OciError,
  randomImage,
  setConfig,
} from "@hoist/oci";
import { describe, expect, it } from "vitest";
import {
  createLayerTar,
  imageFromTarball,
  openTarball,
  type Progress,
  writeTarball,
} from "../src/index.js";
import {
  identity,
  layerTars,
  listTree,
  rawTar,
  tarballFailure,
  useTempDirectory,
} from "./helpers.js";

const directory = useTempDirectory("round-trip");
let counter = 0;
const file = (name = "image") => join(directory(), `${name}-${++counter}.tar`);

const docker = (seed: number, layers = 2) =>
  randomImage({ layers, layerSize: 3000, seed, mediaType: MediaType.DOCKER_MANIFEST });

describe("writing and reading back", () => {
  it("keeps every digest of Docker images, several with tags, layers shared once", async () => {
    const base = docker(1, 2);
    // Two images sharing base's layers, and one unrelated image.
    const app = setConfig(base, { Cmd: ["/app"] });
    const other = docker(2, 3);
    const path = file();
    const descriptors = await writeTarball(path, [
      { image: app, refs: ["registry.example/app:1.0", "registry.example/app:latest"] },
      { image: base, refs: ["registry.example/base"] },
      { image: other, refs: [Tag.parse("other:2")] },
    ]);
    // Sorted by tags; implicit tags get ":latest".
    expect(descriptors.map((descriptor) => descriptor.RepoTags)).toEqual([
      ["other:2"],
      ["registry.example/app:1.0", "registry.example/app:latest"],
      ["registry.example/base:latest"],
    ]);
    const manifestJson = JSON.parse(
      (await buffer(await readEntry(path, "manifest.json"))).toString(),
    );
    expect(manifestJson).toEqual(JSON.parse(JSON.stringify(descriptors)));

    const tarball = await openTarball(path);
    try {
      for (const [tag, image] of [
        ["registry.example/app:1.0", app],
        ["registry.example/app", app],
        ["registry.example/base:latest", base],
        ["index.docker.io/library/other:2", other],
      ] as const) {
        const back = await tarball.image({ tag });
        expect(await identity(back)).toEqual(await identity(image));
        expect(Buffer.from(await back.rawManifest())).toEqual(
          Buffer.from(await image.rawManifest()),
        );
        expect(Buffer.from(await back.rawConfigFile())).toEqual(
          Buffer.from(await image.rawConfigFile()),
        );
        expect(await layerTars(back)).toEqual(await layerTars(image));
      }
      const all = await tarball.images();
      expect(all.map((entry) => entry.repoTags)).toEqual(
        descriptors.map((descriptor) => descriptor.RepoTags),
      );
    } finally {
      await tarball.close();
    }
    // Layers are written once however many images share them: 2 + 3 layers, 3 configs.
    const names = (await entryNames(path)).filter((name) => name !== "manifest.json");
    expect(names.filter((name) => name.endsWith(".tar.gz"))).toHaveLength(5);
    expect(names.filter((name) => name.endsWith(".json"))).toHaveLength(3);
  });

  it("keeps config and layer digests of OCI images; the manifest becomes Docker's", async () => {
    const image = randomImage({ layers: 2, layerSize: 1000, seed: 3 });
    const path = file();
    await writeTarball(path, { image, refs: ["oci:1"] });
    const back = await imageFromTarball(path);
    const [before, after] = [await identity(image), await identity(back)];
    // A docker save tarball has no manifest: the one read back is built as Docker schema 2, so
    // only the manifest digest differs.
    expect({ ...after, digest: "" }).toEqual({ ...before, digest: "" });
    expect(await back.mediaType()).toBe(MediaType.DOCKER_MANIFEST);
    expect((await back.manifest()).layers.map((layer) => layer.mediaType)).toEqual([
      MediaType.DOCKER_LAYER,
      MediaType.DOCKER_LAYER,
    ]);
  });

  it("writes digest references untagged and merges entries for the same image", async () => {
    const image = docker(4);
    const digest = String(await image.digest());
    const path = file();
    const descriptors = await writeTarball(path, [
      { image, refs: [`example.com/a@${digest}`] },
      { image, refs: ["example.com/a:x", "example.com/a:x"] },
    ]);
    expect(descriptors).toHaveLength(1);
    expect(descriptors[0]?.RepoTags).toEqual(["example.com/a:x"]);
    const untagged = file();
    await writeTarball(untagged, { image, refs: [`example.com/a@${digest}`] });
    const manifestJson = (await buffer(await readEntry(untagged, "manifest.json"))).toString();
    expect(JSON.parse(manifestJson)[0].RepoTags).toBeNull();
    const back = await imageFromTarball(untagged);
    expect(String(await back.digest())).toBe(digest);
  });

  it("finds the only image without a tag and refuses to guess among several", async () => {
    const path = file();
    await writeTarball(path, [
      { image: docker(5), refs: ["a:1"] },
      { image: docker(6), refs: ["b:1"] },
    ]);
    const ambiguous = await tarballFailure(imageFromTarball(path));
    expect(ambiguous.code).toBe("HOIST_TARBALL_AMBIGUOUS_IMAGE");
    expect(ambiguous.message).toContain('"a:1"');
    const missing = await tarballFailure(imageFromTarball(path, { tag: "c:1" }));
    expect(missing.code).toBe("HOIST_TARBALL_IMAGE_NOT_FOUND");
    expect(missing.message).toContain('"c:1"');
  });

  it("writes uncompressed layers as docker save does and reads them in both presentations", async () => {
    const image = docker(7, 2);
    const path = file();
    const descriptors = await writeTarball(
      path,
      { image, refs: ["plain:1"] },
      { layers: "uncompressed" },
    );
    const diffIDs = (await identity(image)).diffIDs;
    expect(descriptors[0]?.Layers).toEqual(diffIDs.map((diffID) => `${diffID.slice(7)}.tar`));

    // Default: presented gzipped (as go-containerregistry does), deterministically.
    const gzipped = await imageFromTarball(path);
    const first = await identity(gzipped);
    expect(first.diffIDs).toEqual(diffIDs);
    expect(first.config).toBe((await identity(image)).config);
    expect(
      (await gzipped.manifest()).layers.every((l) => l.mediaType === MediaType.DOCKER_LAYER),
    ).toBe(true);
    // Same bytes as @hoist/oci gzips the same tar at the same level.
    const again = await imageFromTarball(path);
    expect((await identity(again)).digest).toBe(first.digest);
    const [layer] = await gzipped.layers();
    const blob = await buffer(await (layer as NonNullable<typeof layer>).compressed());
    expect(blob.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(await layerTars(gzipped)).toEqual(await layerTars(image));

    // keep: uncompressed blobs whose digest is the diffID.
    const kept = await imageFromTarball(path, { uncompressedLayers: "keep" });
    const keptIdentity = await identity(kept);
    expect(keptIdentity.layers).toEqual(diffIDs);
    expect(
      (await kept.manifest()).layers.every(
        (l) => l.mediaType === MediaType.DOCKER_LAYER_UNCOMPRESSED,
      ),
    ).toBe(true);
    expect(await layerTars(kept)).toEqual(await layerTars(image));
  });

  it("writes the legacy layout that old docker load reads, links followed when reading", async () => {
    const image = docker(8, 3);
    const path = file();
    await writeTarball(path, { image, refs: ["legacy/app:v1", "legacy/app:v2"] }, { legacy: true });
    const names = await entryNames(path);
    const repositories = JSON.parse(
      (await buffer(await readEntry(path, "repositories"))).toString(),
    );
    const top = repositories["legacy/app"].v1;
    expect(repositories["legacy/app"].v2).toBe(top);
    expect(names).toContain(`${top}/json`);
    expect(names).toContain(`${top}/VERSION`);
    expect(names).toContain(`${top}/layer.tar`);
    const v1 = JSON.parse((await buffer(await readEntry(path, `${top}/json`))).toString());
    expect(v1.id).toBe(top);
    expect(typeof v1.parent).toBe("string");
    expect((await identity(await imageFromTarball(path))).digest).toBe(
      String(await image.digest()),
    );
  });

  it("reads a tarball from a stream by spooling it, and removes the spool on close", async () => {
    const image = docker(9);
    const path = file();
    await writeTarball(path, { image, refs: ["spool:1"] });
    const spoolDirectory = join(directory(), `spool-${++counter}`);
    await import("node:fs/promises").then((fs) => fs.mkdir(spoolDirectory));
    const tarball = await openTarball(createReadStream(path), { tempDirectory: spoolDirectory });
    expect(tarball.path.startsWith(spoolDirectory)).toBe(true);
    const back = await tarball.image({ tag: "spool:1" });
    expect(await identity(back)).toEqual(await identity(image));
    await tarball.close();
    expect(await readdir(spoolDirectory)).toEqual([]);
    const closed = await tarballFailure(layerTars(back));
    expect(closed.code).toBe("HOIST_TARBALL_CLOSED");

    // An async iterable works too, and `await using` closes it.
    {
      await using again = await openTarball(Readable.from([await readFile(path)]), {
        tempDirectory: spoolDirectory,
      });
      expect(String(await (await again.image()).digest())).toBe(String(await image.digest()));
    }
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it("stages a streamed layer whose size is unknown, then writes it", async () => {
    const tar = await createLayerTar({ "hello.txt": "from a stream" });
    const layer = layerFromStream(Readable.from([tar]), {
      compression: "gzip",
      mediaType: MediaType.DOCKER_LAYER,
    });
    const image = appendLayers(emptyImage({ mediaType: MediaType.DOCKER_MANIFEST }), [layer]);
    const staging = join(directory(), `staging-${++counter}`);
    await import("node:fs/promises").then((fs) => fs.mkdir(staging));
    const path = file();
    await writeTarball(path, { image, refs: ["stream:1"] }, { tempDirectory: staging });
    expect(await readdir(staging)).toEqual([]);
    const back = await imageFromTarball(path);
    expect(String(await back.digest())).toBe(String(await image.digest()));
    expect(await layerTars(back)).toEqual([Buffer.from(tar)]);
  });

  it("streams into a writable, reporting progress up to the exact total", async () => {
    const image = docker(10, 3);
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        setImmediate(callback);
      },
    });
    const updates: Progress[] = [];
    await writeTarball(
      sink,
      { image, refs: ["progress:1"] },
      { onProgress: (p) => updates.push(p) },
    );
    const written = Buffer.concat(chunks);
    expect(sink.writableEnded).toBe(true);
    const last = updates.at(-1);
    expect(last).toEqual({ complete: written.length, total: written.length });
    for (let index = 1; index < updates.length; index++) {
      expect((updates[index] as Progress).complete).toBeGreaterThan(
        (updates[index - 1] as Progress).complete,
      );
    }
    const path = file();
    await writeFile(path, written);
    expect(String(await (await imageFromTarball(path)).digest())).toBe(
      String(await image.digest()),
    );

    // end: false leaves the stream open for more.
    const open = new PassThrough();
    open.resume();
    await writeTarball(open, image, { end: false });
    expect(open.writableEnded).toBe(false);
  });
});

describe("other writers' layouts", () => {
  it("reads Docker 25's save format: an OCI layout plus manifest.json with LayerSources", async () => {
    const layer = await createLayerTar({
      "etc/": { type: "directory" },
      "etc/hostname": "docker25",
    });
    const diffID = Hash.compute(layer);
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: [String(diffID)] },
      }),
    );
    const configDigest = Hash.compute(config);
    const path = file("docker25");
    await writeFile(
      path,
      await rawTar([
        { name: "blobs/", type: "directory" },
        { name: "blobs/sha256/", type: "directory" },
        { name: `blobs/sha256/${diffID.hex}`, content: layer },
        { name: `blobs/sha256/${configDigest.hex}`, content: config },
        { name: "oci-layout", content: '{"imageLayoutVersion":"1.0.0"}' },
        { name: "index.json", content: '{"schemaVersion":2,"manifests":[]}' },
        {
          name: "manifest.json",
          content: JSON.stringify([
            {
              Config: `blobs/sha256/${configDigest.hex}`,
              RepoTags: ["docker25:latest"],
              Layers: [`blobs/sha256/${diffID.hex}`],
              LayerSources: {
                [String(diffID)]: {
                  mediaType: MediaType.OCI_LAYER,
                  size: layer.length,
                  digest: String(diffID),
                },
              },
            },
          ]),
        },
      ]),
    );
    // As go-containerregistry: the uncompressed LayerSources entries describe the stored tar, so
    // the layer is presented gzipped like any uncompressed layer...
    const image = await imageFromTarball(path, { tag: "docker25" });
    expect(String(await image.configName())).toBe(String(configDigest));
    expect((await image.manifest()).layers[0]?.mediaType).toBe(MediaType.DOCKER_LAYER);
    expect(await layerTars(image)).toEqual([Buffer.from(layer)]);
    // ...or kept as it is stored.
    const kept = await imageFromTarball(path, { uncompressedLayers: "keep" });
    expect(String((await kept.manifest()).layers[0]?.digest)).toBe(String(diffID));
  });

  it("keeps a foreign layer's descriptor, reads its tar, and writes it back as docker save does", async () => {
    const base = await createLayerTar({
      "Files/": { type: "directory" },
      "Files/base.dll": "windows",
    });
    const diffID = Hash.compute(base);
    const foreign = {
      mediaType: MediaType.DOCKER_FOREIGN_LAYER,
      size: 12345,
      digest: `sha256:${"f".repeat(64)}`,
      urls: ["https://mcr.example/blob"],
    };
    const config = Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "windows",
        rootfs: { type: "layers", diff_ids: [String(diffID)] },
      }),
    );
    const path = file("foreign");
    await writeFile(
      path,
      await rawTar([
        { name: "base.tar", content: base },
        { name: "config.json", content: config },
        {
          name: "manifest.json",
          content: JSON.stringify([
            {
              Config: "config.json",
              RepoTags: ["win:1"],
              Layers: ["base.tar"],
              LayerSources: { [String(diffID)]: foreign },
            },
          ]),
        },
      ]),
    );
    const image = await imageFromTarball(path);
    const [layer] = await image.layers();
    const descriptor = (await image.manifest()).layers[0];
    expect(descriptor).toEqual({ ...foreign, digest: Hash.parse(foreign.digest) });
    expect(await buffer(await (layer as NonNullable<typeof layer>).uncompressed())).toEqual(
      Buffer.from(base),
    );
    const error = await tarballFailure((layer as NonNullable<typeof layer>).compressed());
    expect(error.code).toBe("HOIST_TARBALL_FOREIGN_LAYER");
    expect(error.message).toContain("urls");

    const again = file("foreign-again");
    const [written] = await writeTarball(again, { image, refs: ["win:1"] });
    expect(written?.Layers).toEqual([`${diffID.hex}.tar`]);
    expect(Object.keys(written?.LayerSources ?? {})).toEqual([String(diffID)]);
    const reread = await imageFromTarball(again);
    expect((await reread.manifest()).layers[0]?.urls).toEqual(foreign.urls);
    expect(String(await reread.digest())).toBe(String(await image.digest()));
  });
});

describe("failures leave nothing behind", () => {
  it("a layer that does not match its digest fails the write and no file appears", async () => {
    const good = docker(11, 1);
    const [layer] = await good.layers();
    const real = layer as NonNullable<typeof layer>;
    const corrupt = {
      ...real,
      digest: () => real.digest(),
      diffID: () => real.diffID(),
      size: () => real.size(),
      mediaType: () => real.mediaType(),
      uncompressed: () => real.uncompressed(),
      compressed: async () => {
        const bytes = Buffer.from(await buffer(await real.compressed()));
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
        return Readable.from([bytes]);
      },
    };
    const image = appendLayers(emptyImage({ mediaType: MediaType.DOCKER_MANIFEST }), [corrupt]);
    const target = join(directory(), `clean-${++counter}`);
    await import("node:fs/promises").then((fs) => fs.mkdir(target));
    const error = await writeTarball(join(target, "out.tar"), image).catch((caught) => caught);
    expect(DigestMismatchError.is(error)).toBe(true);
    expect(await listTree(target)).toEqual([]);
  });

  it("an aborted write rejects with the reason and leaves nothing", async () => {
    const target = join(directory(), `abort-${++counter}`);
    await import("node:fs/promises").then((fs) => fs.mkdir(target));
    const controller = new AbortController();
    let aborted = false;
    const promise = writeTarball(join(target, "out.tar"), docker(12, 3), {
      signal: controller.signal,
      onProgress: () => {
        if (!aborted) {
          aborted = true;
          controller.abort(new Error("stop now"));
        }
      },
    });
    await expect(promise).rejects.toThrow("stop now");
    expect(await listTree(target)).toEqual([]);
  });

  it("refuses bad arguments with typed errors", async () => {
    const image = docker(13);
    for (const [images, options, message] of [
      [[], {}, "no images"],
      [[{ image, refs: ["Bad Tag"] }], {}, '"Bad Tag"'],
      [
        [
          { image, refs: ["a:1"] },
          { image: docker(14), refs: ["a:1"] },
        ],
        {},
        "two different images",
      ],
      [image, { layers: "zip" }, "layers must be"],
      [[{ nope: 1 }], {}, "images[0]"],
    ] as const) {
      const error = await tarballFailure(writeTarball(file(), images as never, options as never));
      expect(error.code).toBe("HOIST_TARBALL_INVALID_ARGUMENT");
      expect(error.message).toContain(message);
    }
    const badPath = await tarballFailure(
      writeTarball(join(directory(), "no/such/dir/x.tar"), image),
    );
    expect(badPath.code).toBe("HOIST_TARBALL_WRITE_FAILED");
    const badOption = await tarballFailure(
      openTarball(file(), { uncompressedLayers: "zip" as never }),
    );
    expect(badOption.code).toBe("HOIST_TARBALL_INVALID_ARGUMENT");
  });

  it("an image whose layer cannot be read fails with the layer's error and writes nothing", async () => {
    const unreadable = {
      digest: async () => {
        throw new OciError("the layer source is gone", {
          code: "HOIST_OCI_READ_FAILED",
          operation: "read layer",
        });
      },
    };
    const base = docker(15, 1);
    const image = new Proxy(base, {
      get(target, key) {
        if (key === "layers") return async () => [unreadable];
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Image;
    const target = join(directory(), `unreadable-${++counter}`);
    await import("node:fs/promises").then((fs) => fs.mkdir(target));
    const error = await writeTarball(join(target, "out.tar"), image).catch((caught) => caught);
    expect(OciError.is(error) && error.code).toBe("HOIST_OCI_READ_FAILED");
    expect(await listTree(target)).toEqual([]);
  });
});

async function entryNames(path: string): Promise<string[]> {
  const { TarIndex } = await import("../src/tar-index.js");
  return (await TarIndex.open(path, { operation: "test" })).entries().map((entry) => entry.name);
}

async function readEntry(path: string, name: string): Promise<Readable> {
  const { TarIndex } = await import("../src/tar-index.js");
  const index = await TarIndex.open(path, { operation: "test" });
  const location = index.locate(name, "test");
  if (location.size === 0) return Readable.from([]);
  void stat;
  return createReadStream(path, {
    start: location.offset,
    end: location.offset + location.size - 1,
  });
}
