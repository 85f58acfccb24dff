import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { generatedTar } from "@hoist/harness";
import {
  appendLayers,
  appendManifests,
  createImage,
  DEFAULT_PLATFORM,
  DRAIN,
  type Drainable,
  descriptorOf,
  emptyImage,
  emptyIndex,
  FILL,
  type Fillable,
  type Hash,
  isDrainable,
  isIndex,
  type Layer,
  layerFromStream,
  MediaType,
  parsePlatform,
  randomImage,
  randomIndex,
  setAnnotations,
  VerifyingStream,
} from "@hoist/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPuller,
  createPusher,
  type Progress,
  type Puller,
  type Pusher,
  type RemoteError,
} from "../src/index.js";
import {
  artifact,
  blobBytes,
  caught,
  describe as describeBytes,
  fingerprint,
  uniqueRepo,
} from "./helpers.js";
import type { RegistryFactory, RegistryUnderTest, SeenRequest } from "./registries.js";

/** A blob that can be filled, as a layout's blob file can; it records the buffers it filled. */
class FillSource extends Readable implements Fillable {
  readonly buffers = new Set<ArrayBufferLike>();
  streamed = false;
  #offset = 0;
  constructor(readonly bytes: Buffer) {
    super();
  }
  override _read(): void {
    this.streamed = true;
    this.push(this.bytes.subarray(this.#offset));
    this.push(null);
  }
  [FILL](into: Uint8Array): number {
    this.buffers.add(into.buffer);
    const filled = this.bytes.copy(into, 0, this.#offset);
    this.#offset += filled;
    return filled;
  }
}

/** `layer`, whose compressed bytes come verified from `open()`'s fillable source. */
function fillableLayer(layer: Layer, open: () => FillSource): Layer {
  return {
    digest: (options) => layer.digest(options),
    diffID: (options) => layer.diffID(options),
    size: (options) => layer.size(options),
    mediaType: (options) => layer.mediaType(options),
    uncompressed: (options) => layer.uncompressed(options),
    async compressed(options) {
      return new VerifyingStream({
        digest: await layer.digest(options),
        size: await layer.size(options),
        source: open(),
      });
    },
  };
}

/** The suite every registry must pass. */
export function sharedSuite(factory: RegistryFactory): void {
  let registry: RegistryUnderTest;
  let puller: Puller;
  let pusher: Pusher;
  beforeAll(async () => {
    registry = await factory();
    puller = createPuller();
    pusher = createPusher();
  });
  afterAll(async () => {
    await puller?.close();
    await pusher?.close();
    await registry?.stop();
  });
  const ref = (repo: string, id = "latest") =>
    id.includes(":") ? `${registry.host}/${repo}@${id}` : `${registry.host}/${repo}:${id}`;
  const pushed = (requests: SeenRequest[], method: string, path: RegExp) =>
    requests.findIndex((r) => r.method === method && path.test(r.path) && r.status < 300);

  describe("single images", () => {
    it("pushes an image and reads back the same manifest, config and layers", async () => {
      const repo = uniqueRepo("single");
      const image = randomImage({ layers: 2, layerSize: 2048, seed: 11 });
      const written = await pusher.write(ref(repo, "v1"), image);
      expect(written.digest.equals(await image.digest())).toBe(true);

      const pulled = await puller.image(ref(repo, "v1"));
      expect(Buffer.from(await pulled.rawManifest())).toEqual(
        Buffer.from(await image.rawManifest()),
      );
      expect(await pulled.configFile()).toEqual(await image.configFile());
      const [ours, theirs] = [await image.layers(), await pulled.layers()];
      expect(theirs).toHaveLength(2);
      for (let i = 0; i < ours.length; i++) {
        const [mine, pulledLayer] = [ours[i] as Layer, theirs[i] as Layer];
        expect(fingerprint(await blobBytes(pulledLayer))).toBe(fingerprint(await blobBytes(mine)));
        expect((await pulledLayer.diffID()).equals(await mine.diffID())).toBe(true);
      }

      const head = await puller.head(ref(repo, "v1"));
      expect(head.digest.equals(written.digest)).toBe(true);
      expect(head.mediaType).toBe(await image.mediaType());
      expect(head.size).toBe(await image.size());

      const got = await puller.get(ref(repo, written.digest.toString()));
      expect(got.descriptor.digest.equals(written.digest)).toBe(true);
      expect(Buffer.from(got.manifest)).toEqual(Buffer.from(await image.rawManifest()));
    });

    it("pulls a layer by digest, verified", async () => {
      const repo = uniqueRepo("layer");
      const image = randomImage({ layers: 1, layerSize: 1500, seed: 12 });
      await pusher.write(ref(repo), image);
      const [ours] = await image.layers();
      const digest = (await ours?.digest())?.toString() ?? "";
      const theirs = await puller.layer(ref(repo, digest));
      expect(await theirs.size()).toBe(await ours?.size());
      expect(fingerprint(await blobBytes(theirs))).toBe(
        fingerprint(await blobBytes(ours as Layer)),
      );
      expect((await theirs.diffID()).equals(await (ours as Layer).diffID())).toBe(true);
    });

    it("hands a pulled layer over a read at a time when drained, verified", async () => {
      const repo = uniqueRepo("drain");
      const image = randomImage({ layers: 1, layerSize: 3 * 1024 * 1024, seed: 14 });
      await pusher.write(ref(repo), image);
      const [ours] = await image.layers();
      const [theirs] = await (await puller.image(ref(repo))).layers();
      const stream = await (theirs as Layer).compressed();
      expect(isDrainable(stream)).toBe(true);
      const copies: Buffer[] = [];
      const memory = new Set<ArrayBufferLike>();
      await (stream as unknown as Drainable)[DRAIN]((view) => {
        copies.push(Buffer.from(view));
        memory.add(view.buffer);
      });
      expect(fingerprint(Buffer.concat(copies))).toBe(fingerprint(await blobBytes(ours as Layer)));
      // The views are of the connection's one read buffer (the first may be of a copy that
      // also held the answer's head), not of a new buffer per read.
      expect(copies.length).toBeGreaterThan(4);
      expect(memory.size).toBeLessThanOrEqual(2);
    });

    it("uploads a fillable layer from a few reused buffers, and never lands a wrong one", async () => {
      const [layer] = await randomImage({
        layers: 1,
        layerSize: 6 * 1024 * 1024,
        seed: 15,
      }).layers();
      const bytes = await blobBytes(layer as Layer);
      const hex = (await (layer as Layer).digest()).hex;
      const sources: FillSource[] = [];
      const open = (content: Buffer) => () => {
        sources.push(new FillSource(content));
        return sources.at(-1) as FillSource;
      };
      const repo = uniqueRepo("fill");
      await pusher.write(
        ref(repo),
        appendLayers(emptyImage(), [fillableLayer(layer as Layer, open(bytes))]),
      );
      const [theirs] = await (await puller.image(ref(repo))).layers();
      expect(fingerprint(await blobBytes(theirs as Layer))).toBe(fingerprint(bytes));
      expect(sources.map((source) => source.streamed)).toEqual([false]);
      // 24 reads of 256 KiB, into no more buffers than the writes in flight (and the end probe).
      expect(sources[0]?.buffers.size).toBeLessThanOrEqual(18);

      const tampered = Buffer.from(bytes);
      tampered.writeUInt8((tampered.at(-10) as number) ^ 1, bytes.length - 10);
      const wrong = uniqueRepo("fill-wrong");
      const before = (await registry.requests()).length;
      // A Pusher of its own, which does not know the blob is in `repo` and so cannot mount it.
      const fresh = createPusher();
      const error = await caught<RemoteError>(() =>
        fresh.write(
          ref(wrong),
          appendLayers(emptyImage(), [fillableLayer(layer as Layer, open(tampered))]),
        ),
      );
      await fresh.close();
      expect(error.message).toMatch(/hashed to .* was expected/);
      const seen = (await registry.requests()).slice(before);
      expect(error.code).toBe("HOIST_OCI_DIGEST_MISMATCH");
      // The registry never had the whole layer: no upload of it was committed.
      expect(
        seen.filter((r) => r.method === "PUT" && r.path.includes(hex) && r.status < 300),
      ).toEqual([]);
    });

    it("writes a lone layer and skips it when it exists", async () => {
      const repo = uniqueRepo("lone");
      const [layer] = await randomImage({ layers: 1, layerSize: 512, seed: 13 }).layers();
      const first = await pusher.writeLayer(`${registry.host}/${repo}`, layer as never);
      const again = createPusher();
      try {
        const before = (await registry.requests()).length;
        const second = await again.writeLayer(`${registry.host}/${repo}`, layer as never);
        expect(second.digest.equals(first.digest)).toBe(true);
        const after = (await registry.requests()).slice(before);
        expect(after.filter((r) => r.method === "POST" && r.path.includes(repo))).toEqual([]);
      } finally {
        await again.close();
      }
    });
  });

  describe("indexes", () => {
    it("writes a multi-platform index children first and pulls the platform's child", async () => {
      const repo = uniqueRepo("multi");
      const index = randomIndex({
        images: 2,
        layers: 1,
        layerSize: 1024,
        seed: 21,
        platforms: [parsePlatform("linux/amd64"), parsePlatform("linux/arm64/v8")],
      });
      const written = await pusher.writeIndex(ref(repo, "v1"), index);
      expect(written.digest.equals(await index.digest())).toBe(true);
      const { manifests } = await index.indexManifest();
      const requests = await registry.requests(
        (r) => r.method === "PUT" && r.path === `/v2/${repo}/manifests/v1`,
      );
      const indexPut = pushed(requests, "PUT", new RegExp(`/v2/${repo}/manifests/v1$`));
      for (const child of manifests) {
        const childPut = pushed(
          requests,
          "PUT",
          new RegExp(`/v2/${repo}/manifests/${child.digest}`),
        );
        expect(childPut).toBeGreaterThanOrEqual(0);
        expect(childPut).toBeLessThan(indexPut);
      }

      const pulledIndex = await puller.index(ref(repo, "v1"));
      expect((await pulledIndex.digest()).equals(written.digest)).toBe(true);
      const arm = await puller.image(ref(repo, "v1"), { platform: "linux/arm64/v8" });
      expect((await arm.digest()).equals(manifests[1]?.digest as Hash)).toBe(true);
      const amd = await puller.image(ref(repo, "v1"));
      expect((await amd.digest()).equals(manifests[0]?.digest as Hash)).toBe(true);
      const child = await pulledIndex.image(manifests[1]?.digest as Hash);
      expect((await child.configFile()).architecture).toBe("arm64");

      const none = await caught<RemoteError>(() =>
        puller.image(ref(repo, "v1"), { platform: "linux/s390x" }),
      );
      expect(none.code).toBe("HOIST_REMOTE_NO_MATCHING_PLATFORM");
      expect(none.message).toContain("linux/amd64, linux/arm64");
      const notIndex = await caught<RemoteError>(() =>
        puller.index(ref(repo, String(manifests[0]?.digest))),
      );
      expect(notIndex.code).toBe("HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE");
    });

    it("writes nested indexes and resolves a platform through them", async () => {
      const repo = uniqueRepo("nested");
      const inner = randomIndex({
        images: 2,
        layers: 1,
        layerSize: 512,
        seed: 22,
        platforms: [parsePlatform("linux/arm/v7"), parsePlatform("linux/ppc64le")],
      });
      const amd = randomImage({ layers: 1, layerSize: 512, seed: 23 });
      const outer = appendManifests(emptyIndex(), [
        { add: amd, descriptor: { platform: { os: "linux", architecture: "amd64" } } },
        {
          add: inner,
          descriptor: { platform: { os: "linux", architecture: "arm", variant: "v7" } },
        },
      ]);
      await pusher.writeIndex(ref(repo, "nested"), outer);
      const pulled = await puller.index(ref(repo, "nested"));
      const entries = (await pulled.indexManifest()).manifests;
      expect(isIndex(entries[1]?.mediaType)).toBe(true);
      const nested = await pulled.imageIndex(entries[1]?.digest as Hash);
      expect((await nested.digest()).equals(await inner.digest())).toBe(true);
      const v7 = await puller.image(ref(repo, "nested"), { platform: "linux/arm/v7" });
      const expected = (await inner.indexManifest()).manifests[0]?.digest as Hash;
      expect((await v7.digest()).equals(expected)).toBe(true);
      expect((await v7.configFile()).variant).toBe("v7");
    });
  });

  describe("artifacts with subjects", () => {
    it("lists referrers, filters by artifact type, and pushes a subject before its referrers", async () => {
      const repo = uniqueRepo("refs");
      const subject = randomImage({ layers: 1, layerSize: 512, seed: 31 });
      const subjectDescriptor = await descriptorOf(subject);
      const sbom = artifact({
        subject: subjectDescriptor,
        artifactType: "application/vnd.example.sbom",
        content: "sbom",
      });
      const signature = artifact({
        subject: subjectDescriptor,
        artifactType: "application/vnd.example.signature",
        content: "signature",
      });
      // The referrers come first in the list; the subject must still go up first.
      await pusher.multiWrite([
        [ref(repo, "sbom"), sbom],
        [ref(repo, "sig"), signature],
        [ref(repo, "app"), subject],
      ]);
      const requests = await registry.requests(
        (r) => r.method === "PUT" && r.path === `/v2/${repo}/manifests/app`,
      );
      const subjectPut = pushed(requests, "PUT", new RegExp(`/v2/${repo}/manifests/app$`));
      expect(pushed(requests, "PUT", new RegExp(`/v2/${repo}/manifests/sbom$`))).toBeGreaterThan(
        subjectPut,
      );
      expect(pushed(requests, "PUT", new RegExp(`/v2/${repo}/manifests/sig$`))).toBeGreaterThan(
        subjectPut,
      );

      const subjectRef = ref(repo, subjectDescriptor.digest.toString());
      const all = await puller.referrers(subjectRef);
      expect(all.mediaType).toBe(MediaType.OCI_INDEX);
      expect(all.manifests.map((d) => d.artifactType).sort()).toEqual([
        "application/vnd.example.sbom",
        "application/vnd.example.signature",
      ]);
      const sboms = await puller.referrers(subjectRef, {
        artifactType: "application/vnd.example.sbom",
      });
      expect(sboms.manifests).toHaveLength(1);
      expect(sboms.manifests[0]?.digest.equals(await sbom.digest())).toBe(true);
      expect(sboms.manifests[0]?.annotations).toEqual({ "org.example.content": "sbom" });

      const tags = await puller.list(`${registry.host}/${repo}`);
      const fallbackTag = `sha256-${subjectDescriptor.digest.hex}`;
      if (registry.referrersApi) {
        expect(tags).not.toContain(fallbackTag);
      } else {
        expect(tags).toContain(fallbackTag);
        const off = await caught<RemoteError>(() =>
          puller.referrers(subjectRef, { referrersTagFallback: false }),
        );
        expect(off.code).toBe("HOIST_REMOTE_UNSUPPORTED");
      }
      // Re-tagging a referrer leaves the referrers as they are.
      await pusher.tag(ref(repo, "sbom"), "sbom-again");
      expect((await puller.referrers(subjectRef)).manifests).toHaveLength(2);
    });
  });

  describe("foreign layers", () => {
    it("skips foreign layers unless non-distributable artifacts are allowed", async () => {
      const repo = uniqueRepo("foreign");
      const base = randomImage({ layers: 1, layerSize: 512, seed: 41 });
      const foreignBytes = Buffer.from("a foreign layer's bytes, never in the registry");
      const foreign = createImage({
        rawManifest: new TextEncoder().encode(
          JSON.stringify({
            ...(await base.manifest()),
            layers: [
              ...(await base.manifest()).layers,
              {
                ...describeBytes(foreignBytes, MediaType.DOCKER_FOREIGN_LAYER),
                urls: ["https://example.invalid/layer.tar.gz"],
              },
            ],
          }),
        ),
        source: {
          blob: async (descriptor) =>
            descriptor.digest.equals(describeBytes(foreignBytes, "x").digest)
              ? Readable.from([foreignBytes])
              : ((
                  await base.layerByDigest(descriptor.digest).catch(() => undefined)
                )?.compressed() ?? Readable.from([await base.rawConfigFile()])),
        },
      });
      const foreignDigest = describeBytes(foreignBytes, "x").digest;
      await pusher.write(ref(repo, "skip"), foreign);
      const layerRef = ref(repo, foreignDigest.toString());
      expect(
        (await caught<RemoteError>(() => puller.layer(layerRef).then((l) => l.size()))).code,
      ).toBe("HOIST_REMOTE_NOT_FOUND");
      // Another repository: in this one the manifest exists, so nothing below it is pushed.
      await pusher.write(ref(`${repo}-all`), foreign, { allowNondistributableArtifacts: true });
      const pushedRef = ref(`${repo}-all`, foreignDigest.toString());
      expect(await (await puller.layer(pushedRef)).size()).toBe(foreignBytes.length);
    });
  });

  describe("schema 1", () => {
    it("gets a signed schema 1 manifest by tag and by digest, uninterpreted", async () => {
      const repo = uniqueRepo("schema1");
      await pusher.write(ref(repo, "v2"), randomImage({ layers: 2, layerSize: 512, seed: 51 }));
      const digest = await registry.schema1(`${repo}:v2`, repo, "old");
      const byTag = await puller.get(ref(repo, "old"));
      expect(byTag.descriptor.mediaType).toBe(MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED);
      expect(byTag.descriptor.digest.toString()).toBe(digest);
      const json = JSON.parse(Buffer.from(byTag.manifest).toString("utf8"));
      expect(json.schemaVersion).toBe(1);
      expect(byTag.schema1().layers).toHaveLength(json.fsLayers.length);

      // distribution signs schema 1 manifests again on every GET: the bytes differ, the signed
      // payload (and so the digest) does not.
      const byDigest = await puller.get(ref(repo, digest));
      expect(byDigest.descriptor.digest.toString()).toBe(digest);
      expect(byDigest.schema1().layers).toEqual(byTag.schema1().layers);
      expect((await caught<RemoteError>(() => byTag.image())).code).toBe(
        "HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE",
      );
      expect((await caught<RemoteError>(() => puller.image(ref(repo, "old")))).code).toBe(
        "HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE",
      );
      expect((await puller.head(ref(repo, "old"))).digest.toString()).toBe(digest);
    });
  });

  describe("listing", () => {
    it("lists every tag with a small page size", async () => {
      const repo = uniqueRepo("tags");
      const image = randomImage({ layers: 1, layerSize: 256, seed: 61 });
      const tags = ["a", "b", "c", "d", "e"];
      await pusher.multiWrite(tags.map((t) => [ref(repo, t), image] as const));
      const before = (await registry.requests()).length;
      const listed = await puller.list(`${registry.host}/${repo}`, { pageSize: 2 });
      expect([...listed].sort()).toEqual(tags);
      const pages = (await registry.requests())
        .slice(before)
        .filter((r) => r.path.includes(`/v2/${repo}/tags/list`));
      expect(pages[0]?.path).toContain("n=2");
      if (registry.paginatesTags) expect(pages).toHaveLength(3);
    });

    it("lists the catalog, all at once and page by page", async () => {
      const repos = [uniqueRepo("cat"), uniqueRepo("cat"), uniqueRepo("cat")];
      const image = randomImage({ layers: 1, layerSize: 256, seed: 62 });
      await pusher.multiWrite(repos.map((r) => [ref(r), image] as const));
      const all = await puller.catalog(registry.host, { pageSize: 2 });
      for (const repo of repos) expect(all).toContain(repo);
      const seen: string[] = [];
      let last: string | undefined;
      for (let i = 0; i < 1000; i++) {
        const page = await puller.catalogPage(registry.host, {
          pageSize: 1,
          ...(last ? { last } : {}),
        });
        expect(page.repositories.length).toBeLessThanOrEqual(1);
        seen.push(...page.repositories);
        if (!page.next) break;
        last = page.next;
      }
      expect(seen.sort()).toEqual([...all].sort());
    });
  });

  describe("deleting", () => {
    it("deletes a manifest by digest", async () => {
      const repo = uniqueRepo("delete");
      const { digest } = await pusher.write(
        ref(repo, "gone"),
        randomImage({ layers: 1, layerSize: 256, seed: 71 }),
      );
      await pusher.delete(ref(repo, digest.toString()));
      const error = await caught<RemoteError>(() => puller.get(ref(repo, digest.toString())));
      expect(error.code).toBe("HOIST_REMOTE_NOT_FOUND");
      expect(error.status).toBe(404);
    });
  });

  describe("mounts", () => {
    it("mounts layers pulled from another repository of the same registry", async () => {
      const source = uniqueRepo("mount-src");
      const target = uniqueRepo("mount-dst");
      const image = randomImage({ layers: 2, layerSize: 1024, seed: 81 });
      await pusher.write(ref(source), image);
      const fresh = createPusher();
      try {
        const pulled = await puller.image(ref(source));
        await fresh.write(ref(target), pulled);
      } finally {
        await fresh.close();
      }
      const layers = await image.layers();
      for (const layer of layers) {
        const digest = encodeURIComponent((await layer.digest()).toString());
        const requests = await registry.requests(
          (r) =>
            r.method === "POST" && r.path.includes(`/v2/${target}/blobs/uploads/?mount=${digest}`),
        );
        const mount = requests.find(
          (r) =>
            r.method === "POST" && r.path.includes(`/v2/${target}/blobs/uploads/?mount=${digest}`),
        );
        expect(mount?.status).toBe(201);
        expect(mount?.path).toContain(`from=${encodeURIComponent(source)}`);
      }
    });

    it("mounts from where the same Pusher put a blob before", async () => {
      const first = uniqueRepo("known-a");
      const second = uniqueRepo("known-b");
      const image = randomImage({ layers: 1, layerSize: 1024, seed: 82 });
      await pusher.write(ref(first), image);
      await pusher.write(ref(second), image);
      const [layer] = await image.layers();
      const digest = encodeURIComponent((await (layer as Layer).digest()).toString());
      const requests = await registry.requests((r) =>
        r.path.includes(`/v2/${second}/blobs/uploads/?mount=${digest}`),
      );
      const mount = requests.find((r) =>
        r.path.includes(`/v2/${second}/blobs/uploads/?mount=${digest}`),
      );
      expect(mount?.status).toBe(201);
      expect(mount?.path).toContain(`from=${encodeURIComponent(first)}`);
    });
  });

  describe("uploads", () => {
    it("uploads in chunks of the configured size", async () => {
      const repo = uniqueRepo("chunked");
      const image = randomImage({ layers: 1, layerSize: 200 * 1024, seed: 91 });
      const [layer] = await image.layers();
      const size = await (layer as Layer).size();
      const chunkSize = 64 * 1024;
      const before = (await registry.requests()).length;
      await pusher.write(ref(repo), image, { chunkSize });
      const patches = (await registry.requests((r) => r.path === `/v2/${repo}/manifests/latest`))
        .slice(before)
        .filter((r) => r.method === "PATCH" && r.path.startsWith(`/v2/${repo}/blobs/uploads/`));
      expect(patches).toHaveLength(Math.ceil(size / chunkSize));
      const [pulled] = await (await puller.image(ref(repo))).layers();
      expect(fingerprint(await blobBytes(pulled as Layer))).toBe(
        fingerprint(await blobBytes(layer as Layer)),
      );
    });

    it("streams a layer whose digest is known only once read, whole and in chunks", async () => {
      for (const chunkSize of [undefined, 32 * 1024]) {
        const repo = uniqueRepo("stream");
        const layer = layerFromStream(generatedTar(100 * 1024, { seed: 7 }), {
          compression: "gzip",
        });
        const image = appendLayers(emptyImage(), [layer]);
        const progress: Progress[] = [];
        const written = await pusher.write(ref(repo), image, {
          ...(chunkSize ? { chunkSize } : {}),
          onProgress: (p) => progress.push(p),
        });
        expect(layer.computed).toBe(true);
        const pulled = await puller.image(ref(repo));
        expect((await pulled.digest()).equals(written.digest)).toBe(true);
        const [theirs] = await pulled.layers();
        expect((await (theirs as Layer).diffID()).equals(await layer.diffID())).toBe(true);
        expect(fingerprint(await buffer(await (theirs as Layer).uncompressed()))).toBe(
          fingerprint(await buffer(generatedTar(100 * 1024, { seed: 7 }))),
        );
        assertProgress(progress);
      }
    });

    it("aborts mid-upload: every request stops and nothing is tagged", async () => {
      const repo = uniqueRepo("abort");
      const controller = new AbortController();
      const layer = layerFromStream(generatedTar(64 * 1024 * 1024, { seed: 9 }));
      const image = appendLayers(emptyImage(), [layer]);
      const started = Date.now();
      const error = await caught<RemoteError>(() =>
        pusher.write(ref(repo), image, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.complete > 1024 * 1024) controller.abort(new Error("enough"));
          },
        }),
      );
      expect(error.code).toBe("HOIST_REMOTE_ABORTED");
      expect(Date.now() - started).toBeLessThan(10_000);
      const missing = await caught<RemoteError>(() => puller.get(ref(repo)));
      expect(missing.code).toBe("HOIST_REMOTE_NOT_FOUND");
    });
  });

  describe("progress", () => {
    it("reports whole-operation totals, monotone, ending exactly at the total", async () => {
      const repo = uniqueRepo("progress");
      const index = randomIndex({ images: 3, layers: 2, layerSize: 4096, seed: 101 });
      let expected = await index.size();
      for (const child of (await index.indexManifest()).manifests) {
        const image = await index.image(child.digest);
        expected += child.size + (await image.manifest()).config.size;
        for (const layer of await image.layers()) expected += await layer.size();
      }
      const progress: Progress[] = [];
      await pusher.writeIndex(ref(repo), index, { jobs: 2, onProgress: (p) => progress.push(p) });
      assertProgress(progress);
      expect(progress.at(-1)).toEqual({ complete: expected, total: expected });
      expect(new Set(progress.map((p) => p.total))).toEqual(new Set([expected]));

      // Again: everything exists now, so it is done in one step per manifest, same total.
      const again: Progress[] = [];
      await pusher.writeIndex(ref(repo), index, { onProgress: (p) => again.push(p) });
      assertProgress(again);
    });
  });

  describe("copy", () => {
    it("copies an index within the registry by mounting, keeping every digest", async () => {
      const source = uniqueRepo("copy-src");
      const target = uniqueRepo("copy-dst");
      const index = randomIndex({ images: 2, layers: 1, layerSize: 1024, seed: 111 });
      await pusher.writeIndex(ref(source, "v1"), index);
      const copied = await pusher.copy(ref(source, "v1"), ref(target, "v1"));
      expect(copied.digest.equals(await index.digest())).toBe(true);
      const requests = await registry.requests();
      expect(
        requests.some(
          (r) => r.path.includes(`/v2/${target}/blobs/uploads/?mount=`) && r.status === 201,
        ),
      ).toBe(true);
      const platformOnly = await pusher.copy(ref(source, "v1"), ref(target, "amd64"), {
        platform: { ...DEFAULT_PLATFORM },
      });
      const child = (await index.indexManifest()).manifests[0]?.digest as Hash;
      expect(platformOnly.digest.equals(child)).toBe(true);
      expect(platformOnly.mediaType).not.toBe(MediaType.OCI_INDEX);
    });

    it("copies an annotated image and a schema 1 image", async () => {
      const repo = uniqueRepo("copy-misc");
      const image = setAnnotations(randomImage({ layers: 1, layerSize: 256, seed: 112 }), {
        "org.example": "yes",
      });
      await pusher.write(ref(repo, "src"), image);
      await pusher.copy(ref(repo, "src"), ref(`${repo}-b`, "dst"));
      expect((await puller.head(ref(`${repo}-b`, "dst"))).digest.equals(await image.digest())).toBe(
        true,
      );
      const digest = await registry.schema1(`${repo}:src`, repo, "old");
      if (registry.acceptsSchema1) {
        const copied = await pusher.copy(ref(repo, "old"), ref(`${repo}-c`, "old"));
        expect(copied.digest.toString()).toBe(digest);
        expect((await puller.get(ref(`${repo}-c`, "old"))).descriptor.digest.toString()).toBe(
          digest,
        );
      } else {
        // The blobs go over; the registry then refuses the schema 1 manifest, and says so.
        const refused = await caught<RemoteError>(() =>
          pusher.copy(ref(repo, "old"), ref(`${repo}-c`, "old")),
        );
        expect(refused.registryErrors.map((e) => e.code)).toEqual(["MANIFEST_INVALID"]);
        const [layer] = await image.layers();
        const copiedLayer = await puller.layer(
          ref(`${repo}-c`, String(await (layer as Layer).digest())),
        );
        expect(await copiedLayer.size()).toBe(await (layer as Layer).size());
      }
    });
  });
}

/** Progress is monotone, never past its total, and ends exactly at it. */
export function assertProgress(progress: readonly Progress[]): void {
  expect(progress.length).toBeGreaterThan(0);
  for (let i = 1; i < progress.length; i++) {
    const [before, now] = [progress[i - 1] as Progress, progress[i] as Progress];
    expect(now.complete).toBeGreaterThanOrEqual(before.complete);
    expect(now.total).toBeGreaterThanOrEqual(before.total);
  }
  for (const p of progress) expect(p.complete).toBeLessThanOrEqual(p.total);
  const last = progress.at(-1) as Progress;
  expect(last.complete).toBe(last.total);
}
