import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { promisify } from "node:util";
import { findBinary, skopeoRun, useDockerRegistry } from "@hoist/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appendLayers,
  type BlobSource,
  createImage,
  createImageIndex,
  type Descriptor,
  descriptorOf,
  type Image,
  type ImageIndex,
  layerFromBytes,
  MediaType,
  parseIndexManifest,
  randomImage,
  randomIndex,
  setAnnotations,
  setConfig,
} from "../src/index.js";

// The data model checked against real programs: skopeo (containers/image) reads what hoist
// builds, copies it into Debian's docker-registry (distribution 2.8.2), which validates manifests
// and blobs, and GNU tar reads the random layers. Then skopeo copies images back out and hoist
// reads what it wrote.

const run = promisify(execFile);
const tar = findBinary("tar", { debianPackage: "tar", candidates: ["/usr/bin/tar", "/bin/tar"] });

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "hoist-oci-real-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeBlob(layout: string, bytes: Uint8Array, digest: string): Promise<void> {
  const [algorithm, hex] = digest.split(":") as [string, string];
  await mkdir(join(layout, "blobs", algorithm), { recursive: true });
  await writeFile(join(layout, "blobs", algorithm, hex), bytes);
}

async function writeImageBlobs(layout: string, image: Image): Promise<void> {
  await writeBlob(layout, await image.rawManifest(), (await image.digest()).toString());
  await writeBlob(layout, await image.rawConfigFile(), (await image.configName()).toString());
  for (const layer of await image.layers()) {
    await writeBlob(
      layout,
      await buffer(await layer.compressed()),
      (await layer.digest()).toString(),
    );
  }
}

// An OCI image layout holding one image or index under the reference name "hoist".
async function writeLayout(name: string, target: Image | ImageIndex): Promise<string> {
  const layout = join(directory, name);
  await mkdir(layout, { recursive: true });
  await writeFile(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  if ("indexManifest" in target) {
    await writeBlob(layout, await target.rawManifest(), (await target.digest()).toString());
    for (const entry of (await target.indexManifest()).manifests) {
      await writeImageBlobs(layout, await target.image(entry.digest));
    }
  } else {
    await writeImageBlobs(layout, target);
  }
  const descriptor = await descriptorOf(target);
  descriptor.annotations = { "org.opencontainers.image.ref.name": "hoist" };
  await writeFile(
    join(layout, "index.json"),
    JSON.stringify({ schemaVersion: 2, manifests: [descriptor] }),
  );
  return layout;
}

// skopeo's dir: format: manifest.json plus blobs named by hex. Unlike an OCI layout (whose
// index.json containers/image reads only for OCI media types) it holds Docker manifests too.
async function writeDirectory(name: string, image: Image): Promise<string> {
  const path = join(directory, name);
  await mkdir(path, { recursive: true });
  await writeFile(join(path, "version"), "Directory Transport Version: 1.1\n");
  await writeFile(join(path, "manifest.json"), await image.rawManifest());
  await writeFile(join(path, (await image.configName()).hex), await image.rawConfigFile());
  for (const layer of await image.layers()) {
    await writeFile(join(path, (await layer.digest()).hex), await buffer(await layer.compressed()));
  }
  return path;
}

// Reads an OCI layout that another program wrote, through hoist's BlobSource interface.
function layoutSource(layout: string): BlobSource {
  return {
    async blob(descriptor: Descriptor) {
      const { algorithm, hex } = descriptor.digest;
      return Readable.from([await readFile(join(layout, "blobs", algorithm, hex))]);
    },
  };
}

async function registryGet(url: string, accept: string) {
  const response = await fetch(url, { headers: { accept } });
  return {
    status: response.status,
    digest: response.headers.get("docker-content-digest"),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

describe("hoist images in real tools", () => {
  const registry = useDockerRegistry();

  it.each([
    ["OCI", MediaType.OCI_MANIFEST],
    ["Docker", MediaType.DOCKER_MANIFEST],
  ] as const)(
    "skopeo reads a %s random image and docker-registry accepts it byte for byte",
    async (flavour, mediaType) => {
      const layerType =
        mediaType === MediaType.DOCKER_MANIFEST ? MediaType.DOCKER_LAYER : MediaType.OCI_LAYER_GZIP;
      const base = randomImage({
        layers: 2,
        layerSize: 3000,
        seed: flavour,
        mediaType,
        platform: { os: "linux", architecture: "amd64" },
      });
      const image = setAnnotations(
        setConfig(
          appendLayers(base, [
            layerFromBytes(Buffer.alloc(1024), { compression: "gzip", mediaType: layerType }),
          ]),
          {
            Env: ["HOIST=1"],
            Cmd: ["/bin/true"],
          },
        ),
        { "org.opencontainers.image.title": "hoist" },
      );
      const local = `dir:${await writeDirectory(`image-${flavour}`, image)}`;
      const raw = Buffer.from(await image.rawManifest());

      expect(Buffer.from(await skopeoRun("inspect", "--raw", local))).toEqual(raw);
      const config = JSON.parse(await skopeoRun("inspect", "--config", "--raw", local));
      expect(config.config.Env).toEqual(["HOIST=1"]);
      expect(config.rootfs.diff_ids).toEqual(
        (await image.configFile()).rootfs?.diff_ids.map(String),
      );

      const repository = `${registry().host}/hoist/${flavour.toLowerCase()}`;
      await skopeoRun(
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        local,
        `docker://${repository}:v1`,
      );
      const pulled = await registryGet(
        `${registry().url}/v2/hoist/${flavour.toLowerCase()}/manifests/v1`,
        mediaType,
      );
      expect(pulled.status).toBe(200);
      expect(pulled.body.equals(raw)).toBe(true);
      expect(pulled.digest).toBe((await image.digest()).toString());
    },
  );

  it("docker-registry accepts a random index with platforms, and skopeo picks children by platform", async () => {
    const index = randomIndex({
      images: 2,
      seed: "index",
      platforms: [
        { os: "linux", architecture: "amd64" },
        { os: "linux", architecture: "arm64", variant: "v8" },
      ],
    });
    const layout = await writeLayout("index", index);
    const repository = `${registry().host}/hoist/index`;
    await skopeoRun(
      "copy",
      "--all",
      "--preserve-digests",
      "--dest-tls-verify=false",
      `oci:${layout}:hoist`,
      `docker://${repository}:v1`,
    );
    const pulled = await registryGet(
      `${registry().url}/v2/hoist/index/manifests/v1`,
      MediaType.OCI_INDEX,
    );
    expect(pulled.body.equals(Buffer.from(await index.rawManifest()))).toBe(true);
    const arm = JSON.parse(
      await skopeoRun(
        "inspect",
        "--tls-verify=false",
        "--override-arch",
        "arm64",
        "--override-variant",
        "v8",
        `docker://${repository}:v1`,
      ),
    );
    // skopeo names the index's digest and describes the child it chose for arm64/v8.
    expect(arm.Digest).toBe((await index.digest()).toString());
    expect(arm.Architecture).toBe("arm64");
    const armEntry = parseIndexManifest(pulled.body).manifests[1] as Descriptor;
    const armImage = await index.image(armEntry.digest);
    expect(arm.Layers).toEqual(
      (await armImage.manifest()).layers.map((layer) => layer.digest.toString()),
    );
  });

  it("GNU tar lists the file inside a random layer", async () => {
    const image = randomImage({ layers: 1, layerSize: 4321, seed: "tar" });
    const [layer] = await image.layers();
    const path = join(directory, "layer.tar.gz");
    await writeFile(path, await buffer(await (layer as NonNullable<typeof layer>).compressed()));
    const { stdout } = await run(tar, ["-tvzf", path]);
    expect(stdout).toMatch(/^-rw-r--r-- 0\/0\s+4321 1970-01-01 00:00 random-[0-9a-f]{16}\n$/);
  });

  it("reads an image and index that skopeo wrote, verifying every blob", async () => {
    const source = await writeLayout(
      "source",
      randomImage({ layers: 3, layerSize: 2000, seed: "back" }),
    );
    const copied = join(directory, "copied");
    // Converting to Docker's format makes skopeo write a new manifest and config: not hoist's bytes.
    await skopeoRun("copy", "--format", "v2s2", `oci:${source}:hoist`, `oci:${copied}:out`);
    const top = JSON.parse(await readFile(join(copied, "index.json"), "utf8")).manifests[0];
    const rawManifest = await readFile(
      join(copied, "blobs", "sha256", top.digest.slice("sha256:".length)),
    );
    const image = createImage({
      rawManifest,
      mediaType: top.mediaType,
      source: layoutSource(copied),
    });
    expect(await image.mediaType()).toBe(MediaType.DOCKER_MANIFEST);
    const config = await image.configFile();
    const layers = await image.layers();
    expect(layers).toHaveLength(3);
    for (const [position, layer] of layers.entries()) {
      const tarBytes = await buffer(await layer.uncompressed());
      expect(tarBytes.length).toBe(512 + 2048 + 1024);
      expect((await layer.diffID()).equals(config.rootfs?.diff_ids[position] ?? "")).toBe(true);
    }

    const indexLayout = await writeLayout(
      "index-source",
      randomIndex({ images: 2, seed: "idx-back" }),
    );
    const indexCopy = join(directory, "index-copy");
    await skopeoRun("copy", "--all", `oci:${indexLayout}:hoist`, `oci:${indexCopy}:out`);
    const indexTop = JSON.parse(await readFile(join(indexCopy, "index.json"), "utf8")).manifests[0];
    const rawIndex = await readFile(
      join(indexCopy, "blobs", "sha256", indexTop.digest.slice("sha256:".length)),
    );
    const index = createImageIndex({ rawManifest: rawIndex, source: layoutSource(indexCopy) });
    for (const entry of (await index.indexManifest()).manifests) {
      const child = await index.image(entry.digest);
      for (const layer of await child.layers()) await buffer(await layer.compressed());
      expect((await child.configFile()).rootfs?.diff_ids).toHaveLength(1);
    }
  });
});
