import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { ociFailure } from "../test/oci-failure.js";
import { createImage } from "./create-image.js";
import { emptyImage, emptyIndex } from "./empty.js";
import { Hash } from "./hash.js";
import { encodeJson } from "./json.js";
import { layerFromBytes } from "./layer-from-bytes.js";
import { layerFromStream } from "./layer-from-stream.js";
import { MediaType } from "./media-type.js";
import { memoryBlobSource } from "./memory-source.js";
import { setAnnotations, setMediaType } from "./mutate.js";
import { appendLayers, setConfig, setConfigFile, setConfigMediaType } from "./mutate-image.js";
import { appendManifests, platformFromConfig, removeManifests } from "./mutate-index.js";
import { randomImage } from "./random.js";
import { tarWithFile } from "./tar-writer.js";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
const tar = (name: string) => tarWithFile(name, Buffer.from(`${name}\n`));

const failure = ociFailure;

describe("appendLayers", () => {
  it("adds layers, diff IDs and history, and points the manifest at the new config", async () => {
    const base = randomImage({ layers: 1, seed: 1 });
    const added = layerFromBytes(tar("b.txt"), { compression: "gzip" });
    const image = appendLayers(base, [
      {
        layer: added,
        history: { created_by: "COPY b.txt /" },
        annotations: { "org.example": "yes" },
      },
    ]);
    const config = await image.configFile();
    expect(config.rootfs?.diff_ids.map(String)).toEqual([
      ...((await base.configFile()).rootfs?.diff_ids.map(String) ?? []),
      (await added.diffID()).toString(),
    ]);
    expect(config.history?.at(-1)).toEqual({ created_by: "COPY b.txt /" });
    const manifest = await image.manifest();
    expect(manifest.layers).toHaveLength(2);
    expect(manifest.layers[1]).toEqual({
      mediaType: MediaType.OCI_LAYER_GZIP,
      size: await added.size(),
      digest: await added.digest(),
      annotations: { "org.example": "yes" },
    });
    const rawConfig = await image.rawConfigFile();
    expect(manifest.config.digest.equals(Hash.compute(rawConfig))).toBe(true);
    expect(manifest.config.size).toBe(rawConfig.byteLength);
    expect((await image.digest()).equals(Hash.compute(await image.rawManifest()))).toBe(true);
    expect(await image.layers()).toHaveLength(2);
    expect(await image.layerByDigest(await added.digest())).toBe(added);
    expect(await image.layerByDiffID(await added.diffID())).toBe(added);
    const [first] = await base.layers();
    expect(
      await (
        await image.layerByDigest(await (first as NonNullable<typeof first>).digest())
      ).digest(),
    ).toEqual(await first?.digest());
    expect((await failure(image.layerByDigest(Hash.compute("absent")))).code).toBe(
      "HOIST_OCI_NOT_FOUND",
    );
    // The base is untouched.
    expect((await base.manifest()).layers).toHaveLength(1);
  });

  it("takes an empty history entry by default and a media type override", async () => {
    const image = appendLayers(emptyImage({ mediaType: MediaType.DOCKER_MANIFEST }), [
      {
        layer: layerFromBytes(tar("a"), { compression: "gzip" }),
        mediaType: MediaType.DOCKER_LAYER,
      },
      layerFromBytes(tar("b")),
    ]);
    expect((await image.configFile()).history).toEqual([{}, {}]);
    expect((await image.manifest()).layers.map((layer) => layer.mediaType)).toEqual([
      MediaType.DOCKER_LAYER,
      MediaType.OCI_LAYER,
    ]);
  });

  it("keeps unknown fields of the base manifest and config", async () => {
    const config = encodeJson({
      "x-config": { kept: true },
      rootfs: { type: "layers", diff_ids: [] },
    });
    const manifest = encodeJson({
      schemaVersion: 2,
      "x-first": 1,
      mediaType: MediaType.OCI_MANIFEST,
      config: {
        mediaType: MediaType.OCI_CONFIG,
        size: config.byteLength,
        digest: Hash.compute(config),
        "x-d": 2,
      },
      layers: [],
      "x-last": [3],
    });
    const base = createImage({ rawManifest: manifest, source: memoryBlobSource([config]) });
    const image = appendLayers(base, [layerFromBytes(tar("a"))]);
    const raw = JSON.parse(text(await image.rawManifest()));
    expect(Object.keys(raw)).toEqual([
      "schemaVersion",
      "x-first",
      "mediaType",
      "config",
      "layers",
      "x-last",
    ]);
    expect(raw.config["x-d"]).toBe(2);
    expect(JSON.parse(text(await image.rawConfigFile()))["x-config"]).toEqual({ kept: true });
  });

  it("drops stale inline config data when the config changes", async () => {
    const config = encodeJson({ rootfs: { type: "layers", diff_ids: [] } });
    const manifest = encodeJson({
      schemaVersion: 2,
      config: {
        mediaType: MediaType.OCI_CONFIG,
        size: config.byteLength,
        digest: Hash.compute(config),
        data: Buffer.from(config).toString("base64"),
      },
      layers: [],
    });
    const image = appendLayers(
      createImage({ rawManifest: manifest, source: memoryBlobSource([]) }),
      [layerFromBytes(tar("a"))],
    );
    expect((await image.manifest()).config.data).toBeUndefined();
  });

  it("needs stream layers read before the manifest exists, and works after", async () => {
    const streamed = layerFromStream(Readable.from([tar("s")]), { compression: "gzip" });
    const image = appendLayers(emptyImage(), [streamed]);
    expect(await image.layers()).toEqual([streamed]);
    expect((await failure(image.digest())).code).toBe("HOIST_OCI_NOT_COMPUTED");
    expect((await failure(image.layerByDigest(Hash.compute("x")))).code).toBe(
      "HOIST_OCI_NOT_FOUND",
    );
    const [layer] = await image.layers();
    await buffer(await (layer as NonNullable<typeof layer>).compressed());
    const manifest = await image.manifest();
    expect(manifest.layers[0]?.digest.equals(await streamed.digest())).toBe(true);
    expect(await image.layerByDigest(await streamed.digest())).toBe(streamed);
  });

  it("refuses things that are not layers and bad addenda", () => {
    expect(() => appendLayers(emptyImage(), [{} as never])).toThrow(
      /layers\[0\] is neither a Layer/,
    );
    expect(() =>
      appendLayers(emptyImage(), [{ layer: layerFromBytes(tar("a")), mediaType: "bad type" }]),
    ).toThrow(expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }));
    expect(() =>
      appendLayers(emptyImage(), [
        { layer: layerFromBytes(tar("a")), annotations: { a: 1 as never } },
      ]),
    ).toThrow(/annotation "a" must be a string/);
  });
});

describe("config edits", () => {
  it("setConfig sets fields, keeps the others, and removes undefined ones", async () => {
    const base = setConfig(emptyImage(), { Env: ["A=1"], User: "root", WorkingDir: "/srv" });
    const image = setConfig(base, {
      Cmd: ["serve"],
      Entrypoint: ["/bin/app"],
      User: undefined,
      Labels: { "org.opencontainers.image.source": "https://example.com" },
      ExposedPorts: { "8080/tcp": {} },
      Volumes: { "/data": {} },
      StopSignal: "SIGTERM",
    });
    expect((await image.configFile()).config).toEqual({
      Env: ["A=1"],
      WorkingDir: "/srv",
      Cmd: ["serve"],
      Entrypoint: ["/bin/app"],
      Labels: { "org.opencontainers.image.source": "https://example.com" },
      ExposedPorts: { "8080/tcp": {} },
      Volumes: { "/data": {} },
      StopSignal: "SIGTERM",
    });
    const manifest = await image.manifest();
    expect(manifest.config.digest.equals(Hash.compute(await image.rawConfigFile()))).toBe(true);
  });

  it("setConfig refuses wrong types now, naming the field", () => {
    expect(() => setConfig(emptyImage(), { Env: "A=1" as never })).toThrow(
      /config\.Env: expected an array/,
    );
  });

  it("setConfigFile replaces the whole config", async () => {
    const image = setConfigFile(randomImage({ seed: 1 }), {
      architecture: "arm64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
    });
    expect(await image.configFile()).toEqual({
      architecture: "arm64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [] },
    });
    expect(() =>
      setConfigFile(emptyImage(), { rootfs: { type: "layers", diff_ids: ["sha256:x" as never] } }),
    ).toThrow(/rootfs\.diff_ids\[0\]/);
  });

  it("setConfigMediaType changes only the config descriptor's media type", async () => {
    const image = setConfigMediaType(emptyImage(), MediaType.DOCKER_CONFIG);
    const manifest = await image.manifest();
    expect(manifest.config.mediaType).toBe(MediaType.DOCKER_CONFIG);
    expect(manifest.config.digest.equals(await emptyImage().configName())).toBe(true);
    expect(() => setConfigMediaType(emptyImage(), "x")).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });
});

describe("edits of artifacts", () => {
  // An artifact whose config blob is not JSON: edits that do not touch the config must work,
  // and must not even read it.
  function artifact() {
    const config = Buffer.from("\u0000binary config");
    const manifest = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: "application/vnd.example.thing",
      config: {
        mediaType: "application/vnd.example.config",
        size: config.length,
        digest: Hash.compute(config),
      },
      layers: [],
    });
    let configReads = 0;
    const image = createImage({
      rawManifest: manifest,
      source: {
        blob: async () => {
          configReads++;
          return Readable.from([config]);
        },
      },
    });
    return { image, config, reads: () => configReads };
  }

  it("annotates without reading the config, and serves the base's config bytes", async () => {
    const { image, config, reads } = artifact();
    const annotated = setAnnotations(image, { a: "b" });
    expect((await annotated.manifest()).annotations).toEqual({ a: "b" });
    expect(reads()).toBe(0);
    expect(Buffer.from(await annotated.rawConfigFile()).equals(config)).toBe(true);
    expect((await failure(annotated.configFile())).code).toBe("HOIST_OCI_INVALID_JSON");
  });

  it("adds an artifact to an index with its artifactType and no platform", async () => {
    const { image, reads } = artifact();
    const index = appendManifests(emptyIndex(), [image]);
    const [entry] = (await index.indexManifest()).manifests;
    expect(entry?.artifactType).toBe("application/vnd.example.thing");
    expect(entry?.platform).toBeUndefined();
    expect(reads()).toBe(0);
  });
});

describe("setAnnotations and setMediaType", () => {
  it("merge annotations into an image's manifest without touching its config", async () => {
    const base = setAnnotations(emptyImage(), { a: "1", b: "2" });
    const image = setAnnotations(base, { b: "3", "org.opencontainers.image.title": "x" });
    expect((await image.manifest()).annotations).toEqual({
      a: "1",
      b: "3",
      "org.opencontainers.image.title": "x",
    });
    expect(text(await image.rawConfigFile())).toBe(text(await emptyImage().rawConfigFile()));
    expect((await image.digest()).equals(await emptyImage().digest())).toBe(false);
  });

  it("annotate indexes too", async () => {
    const index = setAnnotations(emptyIndex(), { "org.example": "v" });
    expect((await index.indexManifest()).annotations).toEqual({ "org.example": "v" });
    expect(await index.mediaType()).toBe(MediaType.OCI_INDEX);
  });

  it("set media types of images and indexes, refusing nonsense", async () => {
    const image = setMediaType(emptyImage(), MediaType.DOCKER_MANIFEST);
    expect(await image.mediaType()).toBe(MediaType.DOCKER_MANIFEST);
    const index = setMediaType(emptyIndex(), MediaType.DOCKER_MANIFEST_LIST);
    expect((await index.indexManifest()).mediaType).toBe(MediaType.DOCKER_MANIFEST_LIST);
    expect(() => setMediaType(emptyImage(), "text/plain; x=1")).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    // An image cannot become an index: the result is refused when it is built.
    const broken = setMediaType(emptyImage(), MediaType.OCI_INDEX);
    expect((await failure(broken.digest())).code).toBe("HOIST_OCI_INVALID_DOCUMENT");
    expect(() => setAnnotations(emptyImage(), { a: 1 } as never)).toThrow(/must be a string/);
  });
});

describe("appendManifests and removeManifests", () => {
  it("adds images with their platform from the config, indexes and blobs", async () => {
    const arm = randomImage({
      seed: 1,
      platform: { os: "linux", architecture: "arm", variant: "v7" },
    });
    const bare = randomImage({ seed: 2 });
    const nested = emptyIndex();
    const blob = layerFromBytes(Buffer.from("attached"), {
      mediaType: "application/vnd.example.note",
    });
    const index = appendManifests(emptyIndex(), [
      arm,
      bare,
      {
        add: randomImage({ seed: 3 }),
        descriptor: { platform: { os: "linux", architecture: "s390x" }, annotations: { k: "v" } },
      },
      nested,
      { add: blob },
    ]);
    const manifest = await index.indexManifest();
    expect(manifest.manifests.map((entry) => entry.platform)).toEqual([
      { architecture: "arm", os: "linux", variant: "v7" },
      undefined,
      { os: "linux", architecture: "s390x" },
      undefined,
      undefined,
    ]);
    expect(manifest.manifests[2]?.annotations).toEqual({ k: "v" });
    expect(manifest.manifests.map((entry) => entry.mediaType)).toEqual([
      MediaType.OCI_MANIFEST,
      MediaType.OCI_MANIFEST,
      MediaType.OCI_MANIFEST,
      MediaType.OCI_INDEX,
      "application/vnd.example.note",
    ]);
    expect(await index.image(await arm.digest())).toBe(arm);
    expect(await index.imageIndex(await nested.digest())).toBe(nested);
    expect(await index.blob(await blob.digest())).toBe(blob);
    expect((await failure(index.imageIndex(await arm.digest()))).code).toBe(
      "HOIST_OCI_UNEXPECTED_MEDIA_TYPE",
    );
    expect((await failure(index.image(await nested.digest()))).code).toBe(
      "HOIST_OCI_UNEXPECTED_MEDIA_TYPE",
    );
    expect((await failure(index.image(await blob.digest()))).message).toMatch(
      /call blob\(\) instead/,
    );
    expect((await failure(index.image(Hash.compute("absent")))).code).toBe("HOIST_OCI_NOT_FOUND");
    expect((await index.digest()).equals(Hash.compute(await index.rawManifest()))).toBe(true);
  });

  it("serves children of the base index through the base", async () => {
    const first = randomImage({ seed: 1 });
    const base = appendManifests(emptyIndex(), [first]);
    const index = appendManifests(setAnnotations(base, { a: "b" }), [randomImage({ seed: 2 })]);
    expect(await index.image(await first.digest())).toBe(first);
    expect((await index.indexManifest()).manifests).toHaveLength(2);
  });

  it("removes entries by predicate", async () => {
    const index = appendManifests(emptyIndex(), [
      randomImage({ seed: 1, platform: { os: "linux", architecture: "amd64" } }),
      randomImage({ seed: 2, platform: { os: "linux", architecture: "arm64" } }),
      randomImage({ seed: 3 }),
    ]);
    const filtered = removeManifests(index, (entry) => entry.platform?.architecture !== "arm64");
    const manifests = (await filtered.indexManifest()).manifests;
    expect(manifests.map((entry) => entry.platform?.architecture)).toEqual(["arm64"]);
    const gone = (await index.indexManifest()).manifests[0]?.digest as Hash;
    expect((await failure(filtered.image(gone))).code).toBe("HOIST_OCI_NOT_FOUND");
    expect(() => removeManifests(index, "x" as never)).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
  });

  it("refuses things that are not images, indexes or layers and bad entry fields", () => {
    expect(() => appendManifests(emptyIndex(), [{} as never])).toThrow(
      expect.objectContaining({ code: "HOIST_OCI_INVALID_ARGUMENT" }),
    );
    expect(() =>
      appendManifests(emptyIndex(), [
        { add: emptyImage(), descriptor: { platform: { os: "linux" } as never } },
      ]),
    ).toThrow(/platform needs string os and architecture/);
    expect(() =>
      appendManifests(emptyIndex(), [{ add: emptyImage(), descriptor: { artifactType: "nope" } }]),
    ).toThrow(/invalid media type/);
  });

  it("platformFromConfig reads os, architecture, variant, os.version and os.features", async () => {
    const image = setConfigFile(emptyImage(), {
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.20348.1",
      "os.features": ["win32k"],
      rootfs: { type: "layers", diff_ids: [] },
    });
    expect(await platformFromConfig(image)).toEqual({
      os: "windows",
      architecture: "amd64",
      "os.version": "10.0.20348.1",
      "os.features": ["win32k"],
    });
    expect(await platformFromConfig(emptyImage())).toBeUndefined();
  });
});
