import { buffer } from "node:stream/consumers";
import { Repository } from "@hoist/name";
import {
  appendLayers,
  descriptorOf,
  emptyImage,
  Hash,
  type Image,
  type ImageIndex,
  type Layer,
  isIndex,
  layerFromStream,
  MediaType,
  parseManifest,
  parsePlatform,
  randomImage,
  randomIndex,
  setAnnotations,
  appendManifests,
  emptyIndex,
  createImage,
  DEFAULT_PLATFORM,
} from "@hoist/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createPuller,
  createPusher,
  type Progress,
  type Puller,
  type Pusher,
  RemoteError,
} from "../src/index.js";
import { artifact, blobBytes, caught, describe as describeBytes, memorySource, uniqueRepo } from "./helpers.js";
import type { RegistryFactory, RegistryUnderTest, SeenRequest } from "./registries.js";

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
      expect(Buffer.from(await pulled.rawManifest())).toEqual(Buffer.from(await image.rawManifest()));
      expect(await pulled.configFile()).toEqual(await image.configFile());
      const [ours, theirs] = [await image.layers(), await pulled.layers()];
      expect(theirs).toHaveLength(2);
      for (let i = 0; i < ours.length; i++) {
        const [mine, pulledLayer] = [ours[i] as Layer, theirs[i] as Layer];
        expect(await blobBytes(pulledLayer)).toEqual(await blobBytes(mine));
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
      expect(await blobBytes(theirs)).toEqual(await blobBytes(ours as Layer));
      expect((await theirs.diffID()).equals(await (ours as Layer).diffID())).toBe(true);
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
}
