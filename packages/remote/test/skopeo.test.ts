import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatedTar, skopeoRun, useDockerRegistry } from "@hoist/harness";
import {
  appendLayers,
  Hash,
  type Layer,
  layerFromStream,
  parseIndexManifest,
  randomImage,
  randomIndex,
} from "@hoist/oci";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPuller, createPusher } from "../src/index.js";
import { fingerprint, uniqueRepo } from "./helpers.js";

// skopeo (containers/image) as an independent witness: what hoist pushes, skopeo reads with
// the same digests and copies out with its own verification; what skopeo pushes, hoist pulls
// and verifies.

describe("skopeo reads what hoist writes, and the other way round", () => {
  const registry = useDockerRegistry();
  const pusher = createPusher();
  const puller = createPuller();
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "hoist-remote-skopeo-"));
  });
  afterAll(async () => {
    await pusher.close();
    await puller.close();
    await rm(directory, { recursive: true, force: true });
  });
  const docker = (repo: string, tag = "latest") => `docker://${registry().host}/${repo}:${tag}`;

  async function inspectDigest(reference: string): Promise<string> {
    return (
      await skopeoRun("inspect", "--tls-verify=false", "--format", "{{.Digest}}", reference)
    ).trim();
  }

  async function inspectRaw(repo: string, tag: string): Promise<Buffer> {
    return Buffer.from(
      await skopeoRun("inspect", "--tls-verify=false", "--raw", docker(repo, tag)),
    );
  }

  it("inspects an image and an index hoist pushed, byte for byte", async () => {
    const repo = uniqueRepo("witness");
    const image = randomImage({ layers: 2, layerSize: 4096, seed: 1 });
    const index = randomIndex({ images: 2, layers: 1, layerSize: 2048, seed: 2 });
    await pusher.write(`${registry().host}/${repo}:image`, image);
    await pusher.writeIndex(`${registry().host}/${repo}:index`, index);
    const rawImage = await inspectRaw(repo, "image");
    expect(Hash.compute(rawImage).equals(await image.digest())).toBe(true);
    const rawIndex = await inspectRaw(repo, "index");
    expect(Hash.compute(rawIndex).equals(await index.digest())).toBe(true);
    const digest = await inspectDigest(docker(repo, "image"));
    expect(digest).toBe((await image.digest()).toString());
  });

  it("copies out (verifying every blob) what hoist streamed and chunked in", async () => {
    const repo = uniqueRepo("witness-stream");
    const layer = layerFromStream(generatedTar(300 * 1024, { seed: 5 }), { compression: "gzip" });
    const image = appendLayers(randomImage({ layers: 1, layerSize: 1024, seed: 3 }), [layer]);
    const written = await pusher.write(`${registry().host}/${repo}:v1`, image, {
      chunkSize: 64 * 1024,
    });
    const out = join(directory, "stream-layout");
    await skopeoRun("copy", "--src-tls-verify=false", docker(repo, "v1"), `oci:${out}:v1`);
    const index = parseIndexManifest(await readFile(join(out, "index.json")));
    expect(index.manifests[0]?.digest.equals(written.digest)).toBe(true);
    const blobs = await readdir(join(out, "blobs", "sha256"));
    expect(blobs).toContain((await layer.digest()).hex);
  });

  it("pulls and verifies what skopeo pushed, converted to Docker schema 2", async () => {
    const source = uniqueRepo("witness-src");
    const target = uniqueRepo("witness-dst");
    const image = randomImage({ layers: 2, layerSize: 8192, seed: 4 });
    await pusher.write(`${registry().host}/${source}:v1`, image);
    // skopeo rewrites it (OCI → Docker media types, a new manifest) and pushes it itself.
    await skopeoRun(
      "copy",
      "--format",
      "v2s2",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      docker(source, "v1"),
      docker(target, "v1"),
    );
    const digest = await inspectDigest(docker(target, "v1"));
    const pulled = await puller.image(`${registry().host}/${target}:v1`);
    expect((await pulled.digest()).toString()).toBe(digest);
    expect(await pulled.mediaType()).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const ours = await image.layers();
    const theirs = await pulled.layers();
    for (let i = 0; i < ours.length; i++) {
      const read = async (layer: Layer) => {
        const chunks: Buffer[] = [];
        for await (const chunk of await layer.uncompressed()) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      };
      expect(fingerprint(await read(theirs[i] as Layer))).toBe(
        fingerprint(await read(ours[i] as Layer)),
      );
      expect((await (theirs[i] as Layer).diffID()).equals(await (ours[i] as Layer).diffID())).toBe(
        true,
      );
    }
    // And hoist copies skopeo's image onwards, digest for digest.
    const copied = await pusher.copy(
      `${registry().host}/${target}:v1`,
      `${registry().host}/${target}-again:v1`,
    );
    expect(copied.digest.toString()).toBe(digest);
  });
});
