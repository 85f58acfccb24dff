import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { ociFailure } from "../test/oci-failure.js";
import { createImage } from "./create-image.js";
import { createImageIndex } from "./create-image-index.js";
import { configLayer, descriptorOf } from "./descriptor-of.js";
import { emptyImage, emptyIndex } from "./empty.js";
import { DigestMismatchError } from "./errors.js";
import { gzipBytes } from "./gzip.js";
import { Hash } from "./hash.js";
import type { Image } from "./interfaces.js";
import { encodeJson } from "./json.js";
import type { BlobSource } from "./manifest-layer.js";
import { MediaType } from "./media-type.js";
import { parseManifest } from "./parse-document.js";
import { randomImage, randomIndex } from "./random.js";
import { tarWithFile } from "./tar-writer.js";
import type { Descriptor } from "./types.js";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

const failure = ociFailure;

// A blob store in memory that can be told to lie, as a hostile registry would.
function store(blobs: Uint8Array[], tamper?: (digest: string, bytes: Buffer) => Buffer) {
  const byDigest = new Map(blobs.map((blob) => [Hash.compute(blob).toString(), Buffer.from(blob)]));
  const reads: string[] = [];
  const source: BlobSource = {
    async blob(descriptor: Descriptor) {
      const key = descriptor.digest.toString();
      reads.push(key);
      const bytes = byDigest.get(key);
      if (!bytes) throw new Error(`test store has no ${key}`);
      return Readable.from([tamper ? tamper(key, bytes) : bytes]);
    },
  };
  return { source, reads };
}

function imageParts() {
  const tar = tarWithFile("a.txt", Buffer.from("layer a\n"));
  const layer = gzipBytes(tar, 6);
  const config = encodeJson({
    architecture: "arm64",
    os: "linux",
    variant: "v8",
    config: { Env: ["PATH=/bin"] },
    rootfs: { type: "layers", diff_ids: [Hash.compute(tar)] },
  });
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: {
      mediaType: MediaType.OCI_CONFIG,
      size: config.byteLength,
      digest: Hash.compute(config),
    },
    layers: [
      { mediaType: MediaType.OCI_LAYER_GZIP, size: layer.length, digest: Hash.compute(layer) },
    ],
  });
  return { tar, layer, config, manifest };
}

describe("createImage", () => {
  it("serves raw bytes as the truth, and reads lazily", async () => {
    const parts = imageParts();
    // Whitespace a re-serialisation would lose: the digest must be of these exact bytes.
    const raw = Buffer.from(`  ${text(parts.manifest)}\n`);
    const { source, reads } = store([parts.config, parts.layer]);
    const image = createImage({ rawManifest: raw, source });
    expect(reads).toEqual([]);
    expect((await image.digest()).equals(Hash.compute(raw))).toBe(true);
    expect(await image.size()).toBe(raw.length);
    expect(Buffer.from(await image.rawManifest()).equals(raw)).toBe(true);
    expect(await image.mediaType()).toBe(MediaType.OCI_MANIFEST);
    expect((await image.configName()).equals(Hash.compute(parts.config))).toBe(true);
    expect(reads).toEqual([]);
    expect((await image.configFile()).variant).toBe("v8");
    expect(Buffer.from(await image.rawConfigFile()).equals(Buffer.from(parts.config))).toBe(true);
    const [layer] = await image.layers();
    expect(layer).toBeDefined();
    expect((await layer?.diffID())?.equals(Hash.compute(parts.tar))).toBe(true);
    expect(
      (await buffer(await (layer as NonNullable<typeof layer>).uncompressed())).equals(parts.tar),
    ).toBe(true);
    expect(await image.layerByDigest(Hash.compute(parts.layer))).toBe(layer);
    expect(await image.layerByDiffID(Hash.compute(parts.tar).toString())).toBe(layer);
    expect((await layer?.descriptor?.())?.size).toBe(parts.layer.length);
  });

  it("hands out copies, so callers cannot corrupt it", async () => {
    const parts = imageParts();
    const image = createImage({
      rawManifest: parts.manifest,
      source: store([parts.config, parts.layer]).source,
    });
    const raw = await image.rawManifest();
    raw.fill(0);
    const manifest = await image.manifest();
    manifest.layers.pop();
    expect(text(await image.rawManifest())).toBe(text(parts.manifest));
    expect((await image.manifest()).layers).toHaveLength(1);
  });

  it("takes the media type it arrived with, without parameters", async () => {
    const parts = imageParts();
    const image = createImage({
      rawManifest: parts.manifest,
      mediaType: `${MediaType.OCI_MANIFEST}; charset=utf-8`,
      source: store([]).source,
    });
    expect(await image.mediaType()).toBe(MediaType.OCI_MANIFEST);
  });

  it("sniffs the media type of a manifest without one", async () => {
    const parts = imageParts();
    const { mediaType: _dropped, ...bare } = JSON.parse(text(parts.manifest));
    const image = createImage({ rawManifest: encodeJson(bare), source: store([]).source });
    expect(await image.mediaType()).toBe(MediaType.OCI_MANIFEST);
  });

  it("refuses an invalid manifest at once, naming the field", () => {
    expect(() =>
      createImage({
        rawManifest: Buffer.from('{"schemaVersion":2,"config":{},"layers":[]}'),
        source: store([]).source,
      }),
    ).toThrow(/^manifest: config\.mediaType: missing/);
  });

  it("fails with DigestMismatchError when a layer is tampered with", async () => {
    const parts = imageParts();
    const layerDigest = Hash.compute(parts.layer).toString();
    const { source } = store([parts.config, parts.layer], (digest, bytes) => {
      if (digest !== layerDigest) return bytes;
      const copy = Buffer.from(bytes);
      copy.writeUInt8(copy.readUInt8(copy.length - 5) ^ 0xff, copy.length - 5);
      return copy;
    });
    const image = createImage({ rawManifest: parts.manifest, source });
    const [layer] = await image.layers();
    const error = await failure(buffer(await (layer as NonNullable<typeof layer>).compressed()));
    expect(DigestMismatchError.is(error)).toBe(true);
    expect((error as DigestMismatchError).expected.toString()).toBe(layerDigest);
  });

  it("fails when a registry sends a longer or shorter config", async () => {
    const parts = imageParts();
    const longer = store([parts.config, parts.layer], (_digest, bytes) =>
      Buffer.concat([bytes, Buffer.from(" ")]),
    );
    expect(
      (
        await failure(
          createImage({ rawManifest: parts.manifest, source: longer.source }).configFile(),
        )
      ).code,
    ).toBe("HOIST_OCI_SIZE_MISMATCH");
    const shorter = store([parts.config, parts.layer], (_digest, bytes) => bytes.subarray(1));
    expect(
      (
        await failure(
          createImage({ rawManifest: parts.manifest, source: shorter.source }).rawConfigFile(),
        )
      ).code,
    ).toBe("HOIST_OCI_SIZE_MISMATCH");
  });

  it("refuses a config whose descriptor announces more than the cap, before reading it", async () => {
    const parts = imageParts();
    const { source, reads } = store([parts.config]);
    const image = createImage({ rawManifest: parts.manifest, source, maxConfigBytes: 10 });
    expect((await failure(image.configFile())).code).toBe("HOIST_OCI_DOCUMENT_TOO_LARGE");
    expect(reads).toEqual([]);
  });

  it("uses verified inline config data instead of reading the blob", async () => {
    const parts = imageParts();
    const manifest = JSON.parse(text(parts.manifest));
    manifest.config.data = Buffer.from(parts.config).toString("base64");
    const { source, reads } = store([]);
    const image = createImage({ rawManifest: encodeJson(manifest), source });
    expect((await image.configFile()).os).toBe("linux");
    expect(reads).toEqual([]);
    manifest.config.data = Buffer.from("{}").toString("base64");
    const lying = createImage({ rawManifest: encodeJson(manifest), source });
    expect((await failure(lying.configFile())).code).toBe("HOIST_OCI_SIZE_MISMATCH");
  });

  it("reports a config with too few diff IDs against the layer that lacks one", async () => {
    const parts = imageParts();
    const config = encodeJson({ rootfs: { type: "layers", diff_ids: [] } });
    const manifest = JSON.parse(text(parts.manifest));
    manifest.config = {
      ...manifest.config,
      size: config.byteLength,
      digest: Hash.compute(config).toString(),
    };
    const image = createImage({
      rawManifest: encodeJson(manifest),
      source: store([config]).source,
    });
    const [layer] = await image.layers();
    const error = await failure((layer as NonNullable<typeof layer>).diffID());
    expect(error.code).toBe("HOIST_OCI_INVALID_DOCUMENT");
    expect(error.message).toMatch(
      /rootfs\.diff_ids\[0\]: missing; the manifest lists 1 layers but the config has 0/,
    );
  });

  it("answers HOIST_OCI_NOT_FOUND for unknown layers and a malformed digest for junk", async () => {
    const parts = imageParts();
    const image = createImage({
      rawManifest: parts.manifest,
      source: store([parts.config]).source,
    });
    expect((await failure(image.layerByDigest(Hash.compute("nope")))).code).toBe(
      "HOIST_OCI_NOT_FOUND",
    );
    expect((await failure(image.layerByDiffID(Hash.compute("nope")))).code).toBe(
      "HOIST_OCI_NOT_FOUND",
    );
    expect((await failure(image.layerByDigest("sha256:../../x"))).code).toBe(
      "HOIST_OCI_INVALID_DIGEST",
    );
  });

  it("refuses to decompress zstd layers with a typed error", async () => {
    const zstd = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]);
    const config = encodeJson({ rootfs: { type: "layers", diff_ids: [Hash.compute("x")] } });
    const manifest = encodeJson({
      schemaVersion: 2,
      config: {
        mediaType: MediaType.OCI_CONFIG,
        size: config.byteLength,
        digest: Hash.compute(config),
      },
      layers: [
        { mediaType: MediaType.OCI_LAYER_ZSTD, size: zstd.length, digest: Hash.compute(zstd) },
      ],
    });
    const image = createImage({ rawManifest: manifest, source: store([config, zstd]).source });
    const [layer] = await image.layers();
    expect(
      (await buffer(await (layer as NonNullable<typeof layer>).compressed())).equals(zstd),
    ).toBe(true);
    expect((await failure((layer as NonNullable<typeof layer>).uncompressed())).code).toBe(
      "HOIST_OCI_UNSUPPORTED_COMPRESSION",
    );
  });

  it("exposes the config as a layer for writers", async () => {
    const parts = imageParts();
    const image = createImage({
      rawManifest: parts.manifest,
      source: store([parts.config]).source,
    });
    const layer = configLayer(image);
    expect((await layer.digest()).equals(Hash.compute(parts.config))).toBe(true);
    expect((await buffer(await layer.compressed())).equals(Buffer.from(parts.config))).toBe(true);
    expect(await layer.mediaType()).toBe(MediaType.OCI_CONFIG);
    expect(await layer.size()).toBe(parts.config.byteLength);
  });
});

describe("createImageIndex", () => {
  async function indexOf(images: Image[], tamper?: (digest: string, bytes: Buffer) => Buffer) {
    const blobs: Uint8Array[] = [];
    const manifests: Descriptor[] = [];
    for (const image of images) {
      blobs.push(await image.rawManifest(), await image.rawConfigFile());
      for (const layer of await image.layers()) blobs.push(await buffer(await layer.compressed()));
      manifests.push(await descriptorOf(image));
    }
    const nested = encodeJson({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] });
    blobs.push(nested, Buffer.from("just a blob"));
    manifests.push({
      mediaType: MediaType.OCI_INDEX,
      size: nested.byteLength,
      digest: Hash.compute(nested),
    });
    manifests.push({
      mediaType: "application/octet-stream",
      size: 11,
      digest: Hash.compute("just a blob"),
    });
    const raw = encodeJson({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests });
    return {
      index: createImageIndex({ rawManifest: raw, source: store(blobs, tamper).source }),
      raw,
      manifests,
    };
  }

  it("finds children by digest and verifies them", async () => {
    const image = randomImage({ seed: 1, layers: 2, layerSize: 64 });
    const { index, raw, manifests } = await indexOf([image]);
    expect((await index.digest()).equals(Hash.compute(raw))).toBe(true);
    expect((await index.indexManifest()).manifests).toHaveLength(3);
    const child = await index.image((manifests[0] as Descriptor).digest);
    expect((await child.digest()).equals(await image.digest())).toBe(true);
    expect(await child.mediaType()).toBe(MediaType.OCI_MANIFEST);
    const nested = await index.imageIndex((manifests[1] as Descriptor).digest);
    expect((await nested.indexManifest()).manifests).toEqual([]);
    const blob = await index.blob((manifests[2] as Descriptor).digest);
    expect(text(await buffer(await blob.compressed()))).toBe("just a blob");
    expect((await blob.diffID()).equals(Hash.compute("just a blob"))).toBe(true);
  });

  it("refuses the wrong kind of child and unknown digests", async () => {
    const { index, manifests } = await indexOf([randomImage({ seed: 2 })]);
    const imageDigest = (manifests[0] as Descriptor).digest;
    const indexDigest = (manifests[1] as Descriptor).digest;
    const wrong = await failure(index.imageIndex(imageDigest));
    expect(wrong.code).toBe("HOIST_OCI_UNEXPECTED_MEDIA_TYPE");
    expect(wrong.message).toMatch(/call image\(\) or blob\(\) instead/);
    expect((await failure(index.image(indexDigest))).message).toMatch(
      /call imageIndex\(\) instead/,
    );
    expect((await failure(index.image(Hash.compute("absent")))).code).toBe("HOIST_OCI_NOT_FOUND");
  });

  it("refuses a tampered child manifest before parsing it", async () => {
    const image = randomImage({ seed: 3 });
    const imageDigest = (await image.digest()).toString();
    const { index } = await indexOf([image], (digest, bytes) =>
      digest === imageDigest ? Buffer.from(text(bytes).replace('"layers"', '"layerz"')) : bytes,
    );
    const error = await failure(index.image(imageDigest));
    expect(error.code).toBe("HOIST_OCI_DIGEST_MISMATCH");
  });

  it("uses a source's manifest() for children and verifies what it returns", async () => {
    const image = randomImage({ seed: 4 });
    const raw = await image.rawManifest();
    const descriptor = await descriptorOf(image);
    const index = encodeJson({ schemaVersion: 2, manifests: [descriptor] });
    const source: BlobSource = {
      blob: () => Promise.reject(new Error("manifests must not be read as blobs here")),
      manifest: async () => raw,
    };
    const child = await createImageIndex({ rawManifest: index, source }).image(descriptor.digest);
    expect((await child.digest()).equals(descriptor.digest)).toBe(true);
    const lying: BlobSource = {
      ...source,
      manifest: async () => Buffer.concat([raw, Buffer.from(" ")]),
    };
    expect(
      (
        await failure(
          createImageIndex({ rawManifest: index, source: lying }).image(descriptor.digest),
        )
      ).code,
    ).toBe("HOIST_OCI_SIZE_MISMATCH");
    // A cap the index passes but its child does not.
    expect(index.byteLength).toBeLessThan(300);
    expect(raw.byteLength).toBeGreaterThan(300);
    const capped = createImageIndex({ rawManifest: index, source, maxManifestBytes: 300 });
    expect((await failure(capped.image(descriptor.digest))).code).toBe(
      "HOIST_OCI_DOCUMENT_TOO_LARGE",
    );
  });
});

describe("emptyImage and emptyIndex", () => {
  it("are fixed documents", async () => {
    const image = emptyImage();
    expect(text(await image.rawConfigFile())).toBe(
      '{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const manifest = parseManifest(await image.rawManifest());
    expect(manifest.mediaType).toBe(MediaType.OCI_MANIFEST);
    expect(manifest.config.mediaType).toBe(MediaType.OCI_CONFIG);
    expect(manifest.layers).toEqual([]);
    expect(await image.layers()).toEqual([]);
    expect((await emptyImage().digest()).equals(await image.digest())).toBe(true);
    expect(text(await emptyIndex().rawManifest())).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
    );
  });

  it("come in Docker flavours and with a platform", async () => {
    const docker = emptyImage({
      mediaType: MediaType.DOCKER_MANIFEST,
      platform: { os: "linux", architecture: "arm", variant: "v7" },
    });
    expect(await docker.mediaType()).toBe(MediaType.DOCKER_MANIFEST);
    expect((await docker.manifest()).config.mediaType).toBe(MediaType.DOCKER_CONFIG);
    expect(await docker.configFile()).toMatchObject({
      os: "linux",
      architecture: "arm",
      variant: "v7",
    });
    expect(await emptyIndex({ mediaType: MediaType.DOCKER_MANIFEST_LIST }).mediaType()).toBe(
      MediaType.DOCKER_MANIFEST_LIST,
    );
  });

  it("refuse other media types", () => {
    expect(() => emptyImage({ mediaType: MediaType.OCI_INDEX as never })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    expect(() => emptyIndex({ mediaType: MediaType.OCI_MANIFEST as never })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });
});

describe("randomImage and randomIndex", () => {
  it("are deterministic with a seed and differ without one", async () => {
    const a = randomImage({ layers: 3, layerSize: 200, seed: "s" });
    const b = randomImage({ layers: 3, layerSize: 200, seed: "s" });
    expect((await a.digest()).equals(await b.digest())).toBe(true);
    expect(
      (await randomImage({ layers: 3, layerSize: 200, seed: "t" }).digest()).equals(
        await a.digest(),
      ),
    ).toBe(false);
    expect((await randomImage().digest()).equals(await randomImage().digest())).toBe(false);
  });

  it("hold real gzipped tars with one random file, recorded in the config", async () => {
    const image = randomImage({ layers: 2, layerSize: 1000, seed: 9 });
    const config = await image.configFile();
    expect(config.rootfs?.diff_ids).toHaveLength(2);
    expect(config.history).toHaveLength(2);
    const layers = await image.layers();
    for (const [position, layer] of layers.entries()) {
      const compressed = await buffer(await layer.compressed());
      expect(compressed.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(true);
      const tar = await buffer(await layer.uncompressed());
      expect(tar.length).toBe(512 + 1024 + 1024);
      expect(tar.subarray(0, 7).toString()).toBe("random-");
      expect(tar.subarray(257, 262).toString()).toBe("ustar");
      expect((await layer.diffID()).equals(config.rootfs?.diff_ids[position] as Hash)).toBe(true);
      expect(await layer.mediaType()).toBe(MediaType.OCI_LAYER_GZIP);
    }
    const manifest = await image.manifest();
    expect(manifest.layers.map((descriptor) => descriptor.size)).toEqual(
      await Promise.all(layers.map((layer) => layer.size())),
    );
  });

  it("builds Docker images and indexes with platforms", async () => {
    const index = randomIndex({
      images: 2,
      seed: 5,
      mediaType: MediaType.DOCKER_MANIFEST_LIST,
      platforms: [
        { os: "linux", architecture: "amd64" },
        { os: "linux", architecture: "arm64", variant: "v8" },
      ],
    });
    const manifest = await index.indexManifest();
    expect(manifest.mediaType).toBe(MediaType.DOCKER_MANIFEST_LIST);
    expect(manifest.manifests.map((entry) => entry.platform)).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
    const child = await index.image((manifest.manifests[1] as Descriptor).digest);
    expect(await child.mediaType()).toBe(MediaType.DOCKER_MANIFEST);
    expect(await (await child.layers())[0]?.mediaType()).toBe(MediaType.DOCKER_LAYER);
    expect(
      (await randomIndex({ images: 3 }).indexManifest()).manifests.every(
        (entry) => !entry.platform,
      ),
    ).toBe(true);
  });

  it("refuse bad counts", () => {
    expect(() => randomImage({ layers: -1 })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    expect(() => randomImage({ layerSize: 1.5 })).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    expect(() =>
      randomIndex({ images: 2, platforms: [{ os: "linux", architecture: "amd64" }] }),
    ).toThrow(/give one per image/);
  });
});

describe("descriptorOf", () => {
  it("describes images, indexes and layers", async () => {
    const image = randomImage({ seed: 1 });
    expect(await descriptorOf(image)).toEqual({
      mediaType: MediaType.OCI_MANIFEST,
      size: await image.size(),
      digest: await image.digest(),
    });
    const index = emptyIndex();
    expect((await descriptorOf(index)).mediaType).toBe(MediaType.OCI_INDEX);
    const [layer] = await image.layers();
    expect(
      (await descriptorOf(layer as NonNullable<typeof layer>)).digest.equals(
        (await layer?.digest()) as Hash,
      ),
    ).toBe(true);
  });

  it("gives artifact manifests their artifactType", async () => {
    const config = Buffer.from("{}");
    const manifest = (extra: Record<string, unknown>) =>
      encodeJson({
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        config: { mediaType: MediaType.OCI_EMPTY, size: 2, digest: Hash.compute(config) },
        layers: [],
        ...extra,
      });
    const source = store([config]).source;
    const explicit = createImage({
      rawManifest: manifest({ artifactType: "application/vnd.example+json" }),
      source,
    });
    expect((await descriptorOf(explicit)).artifactType).toBe("application/vnd.example+json");
    expect(
      (await descriptorOf(createImage({ rawManifest: manifest({}), source }))).artifactType,
    ).toBeUndefined();
    const helm = encodeJson({
      schemaVersion: 2,
      config: {
        mediaType: "application/vnd.cncf.helm.config.v1+json",
        size: 2,
        digest: Hash.compute(config),
      },
      layers: [],
    });
    expect((await descriptorOf(createImage({ rawManifest: helm, source }))).artifactType).toBe(
      "application/vnd.cncf.helm.config.v1+json",
    );
  });
});
