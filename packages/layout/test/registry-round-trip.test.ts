import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useDockerRegistry } from "@hoist/harness";
import { isIndex, randomImage, randomIndex } from "@hoist/oci";
import { memoryStorage, type RunningRegistry, startRegistry } from "@hoist/registry";
import { createPuller, createPusher } from "@hoist/remote";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLayout, openLayout } from "../src/index.js";

/** Every blob file of a layout, by digest, with its bytes. */
async function blobFiles(path: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const algorithm of await readdir(join(path, "blobs"))) {
    for (const hex of await readdir(join(path, "blobs", algorithm))) {
      files.set(`${algorithm}:${hex}`, await readFile(join(path, "blobs", algorithm, hex)));
    }
  }
  return files;
}

const registries: [string, () => { host: string }][] = [];

let ours: RunningRegistry;
beforeAll(async () => {
  ours = await startRegistry({ storage: memoryStorage() });
});
afterAll(async () => {
  await ours?.close();
});
const docker = useDockerRegistry();
registries.push(["@hoist/registry", () => ({ host: ours.host })]);
registries.push(["Debian's docker-registry", () => ({ host: docker().host })]);

describe.each(registries)("layout -> %s -> layout", (_, registry) => {
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "hoist-layout-rt-"));
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("keeps every digest and every byte of images and multi-platform indexes", async () => {
    const source = await createLayout(join(work, "source"));
    await source.appendImage(randomImage({ layers: 3, layerSize: 64 * 1024, seed: 11 }), {
      refName: "single",
    });
    await source.appendIndex(
      randomIndex({
        images: 2,
        layers: 2,
        layerSize: 32 * 1024,
        seed: 12,
        platforms: [
          { os: "linux", architecture: "amd64" },
          { os: "linux", architecture: "arm64", variant: "v8" },
        ],
      }),
      { refName: "multi" },
    );

    const { host } = registry();
    const pusher = createPusher({});
    const puller = createPuller({});
    const target = await createLayout(join(work, "target"));
    try {
      for (const descriptor of (await source.indexManifest()).manifests) {
        const name = descriptor.annotations?.["org.opencontainers.image.ref.name"] as string;
        const ref = `${host}/round-trip/${name}:latest`;
        if (isIndex(descriptor.mediaType)) {
          await pusher.writeIndex(ref, await source.index(name));
          await target.appendIndex(await puller.index(ref), { refName: name });
        } else {
          await pusher.write(ref, await source.image(name));
          await target.appendImage(await puller.image(ref), { refName: name });
        }
      }
    } finally {
      await pusher.close();
      await puller.close();
    }

    const before = await openLayout(join(work, "source"));
    const after = await openLayout(join(work, "target"));
    const digests = async (layout: typeof before) =>
      (await layout.indexManifest()).manifests.map((d) => `${d.mediaType} ${d.digest} ${d.size}`);
    expect(await digests(after)).toEqual(await digests(before));
    const sourceBlobs = await blobFiles(join(work, "source"));
    const targetBlobs = await blobFiles(join(work, "target"));
    expect([...targetBlobs.keys()].sort()).toEqual([...sourceBlobs.keys()].sort());
    for (const [digest, bytes] of sourceBlobs)
      expect(targetBlobs.get(digest)?.equals(bytes), digest).toBe(true);
    // 1 image (manifest, config, 3 layers) + 1 index (index, 2 x (manifest, config, 2 layers)).
    expect(sourceBlobs.size).toBe(5 + 1 + 2 * 4);
  });
});
