import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { skopeoRun, useDockerRegistry } from "@hoist/harness";
import { type ConfigFile, MediaType, parseConfigFile, randomImage, setConfig } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import {
  exportImage,
  imageFromFiles,
  imageFromTarball,
  layerFromFiles,
  openTarball,
  writeTarball,
} from "../src/index.js";
import { gnuTar, identity, layerTars, listTree, run, useTempDirectory } from "./helpers.js";

// Our tarballs checked against real programs: skopeo 1.9 (containers/image, what podman and
// buildah use for docker-archive:) reads what we write and copies it into an OCI layout and into
// Debian's docker-registry; we read what skopeo writes; GNU tar reads our tarballs and exports.
//
// What must be equal across these trips is the image's identity as docker sees it: the config
// blob (its digest is the image ID) and the layers' diffIDs (the uncompressed tars). Compressed
// layer digests and manifest digests are not: skopeo presents docker-archive layers
// uncompressed and recompresses them with its own gzip when it writes to a registry or a layout,
// and a docker-save tarball has no manifest of its own, so every reader builds one.

const directory = useTempDirectory("real-tools");
const registry = useDockerRegistry();
let counter = 0;
const fresh = (name: string) => join(directory(), `${name}-${++counter}`);

// An image with real files, so layer contents can be compared after every trip.
async function sampleImage() {
  const base = await imageFromFiles({
    "etc/": { type: "directory" },
    "etc/os-release": "ID=hoist\n",
    "bin/": { type: "directory" },
    "bin/tool": { content: "#!/bin/sh\necho hi\n", mode: 0o755 },
  });
  const layer = await layerFromFiles({ "app/": { type: "directory" }, "app/main.js": "1+1\n" });
  const { appendLayers } = await import("@hoist/oci");
  return setConfig(appendLayers(base, [layer]), { Cmd: ["/bin/tool"], Env: ["A=1"] });
}

function diffIDs(config: ConfigFile): string[] {
  return (config.rootfs?.diff_ids ?? []).map(String);
}

// Reads an OCI image layout's only image (written by skopeo) without @hoist/layout.
async function readLayout(layout: string) {
  const blob = (digest: string) => readFile(join(layout, "blobs", ...digest.split(":")));
  const index = JSON.parse((await readFile(join(layout, "index.json"))).toString());
  const manifest = JSON.parse((await blob(index.manifests[0].digest)).toString());
  const rawConfig = await blob(manifest.config.digest);
  return {
    manifest,
    configDigest: manifest.config.digest as string,
    config: parseConfigFile(rawConfig),
  };
}

describe("skopeo reads our tarballs", () => {
  it("inspects them, by tag and as the only image, with our config and diffIDs", async () => {
    const image = await sampleImage();
    const path = `${fresh("ours")}.tar`;
    await writeTarball(path, { image, refs: ["registry.example/app:1.0"] });
    const expected = await identity(image);
    for (const reference of [
      `docker-archive:${path}`,
      `docker-archive:${path}:registry.example/app:1.0`,
    ]) {
      const inspected = JSON.parse(await skopeoRun("inspect", reference));
      // skopeo lists a docker-archive's layers by diffID: it reads them uncompressed.
      expect(inspected.Layers).toEqual(expected.diffIDs);
      const config = JSON.parse(await skopeoRun("inspect", "--config", "--raw", reference));
      expect(config.config.Cmd).toEqual(["/bin/tool"]);
      const rawConfig = await skopeoRun("inspect", "--config", "--raw", reference);
      expect(Buffer.from(rawConfig)).toEqual(Buffer.from(await image.rawConfigFile()));
    }
  });

  it("copies one image of a multi-image tarball into an OCI layout, config and diffIDs intact", async () => {
    const image = await sampleImage();
    const other = randomImage({
      layers: 2,
      layerSize: 500,
      seed: 1,
      mediaType: MediaType.DOCKER_MANIFEST,
    });
    const path = `${fresh("multi")}.tar`;
    await writeTarball(path, [
      { image, refs: ["app:1", "app:2"] },
      { image: other, refs: ["other:1"] },
    ]);
    const layout = fresh("layout");
    await skopeoRun("copy", `docker-archive:${path}:app:2`, `oci:${layout}:x`);
    // Converting to OCI, skopeo re-encodes the config in Go's field order, so its digest may
    // change; its content and the diffIDs may not.
    const copied = await readLayout(layout);
    expect(copied.config).toEqual(await image.configFile());
    expect(diffIDs(copied.config)).toEqual((await identity(image)).diffIDs);
    expect(copied.manifest.layers).toHaveLength(2);
    const otherLayout = fresh("layout");
    await skopeoRun("copy", `docker-archive:${path}:other:1`, `oci:${otherLayout}:x`);
    const otherCopy = await readLayout(otherLayout);
    expect(otherCopy.config).toEqual(await other.configFile());
  });

  it("pushes it into docker-registry, which accepts the manifest it builds", async () => {
    const image = await sampleImage();
    const path = `${fresh("push")}.tar`;
    await writeTarball(path, { image, refs: ["app:push"] }, { legacy: true });
    const destination = `docker://${registry().host}/tarball/app:push`;
    await skopeoRun(
      "copy",
      "--dest-tls-verify=false",
      `docker-archive:${path}:app:push`,
      destination,
    );
    const rawConfig = await skopeoRun(
      "inspect",
      "--tls-verify=false",
      "--config",
      "--raw",
      destination,
    );
    expect(Buffer.from(rawConfig)).toEqual(Buffer.from(await image.rawConfigFile()));
    const inspected = JSON.parse(await skopeoRun("inspect", "--tls-verify=false", destination));
    // Recompressed by skopeo: as many layers, none named by its diffID any more.
    expect(inspected.Layers).toHaveLength(2);
    expect(inspected.Layers).not.toEqual((await identity(image)).diffIDs);
  });

  it("reads tarballs written with uncompressed layers the same way", async () => {
    const image = await sampleImage();
    const path = `${fresh("plain")}.tar`;
    await writeTarball(path, { image, refs: ["plain:1"] }, { layers: "uncompressed" });
    const inspected = JSON.parse(await skopeoRun("inspect", `docker-archive:${path}`));
    expect(inspected.Layers).toEqual((await identity(image)).diffIDs);
  });
});

describe("we read what skopeo writes", () => {
  it("reads skopeo's docker-archive (uncompressed layers, legacy links) with equal config and diffIDs", async () => {
    const image = await sampleImage();
    const ours = `${fresh("source")}.tar`;
    await writeTarball(ours, { image, refs: ["source:1"] });
    // Into the registry and back out through skopeo, so nothing of ours is in the final file.
    const remote = `docker://${registry().host}/tarball/from-skopeo:1`;
    await skopeoRun("copy", "--dest-tls-verify=false", `docker-archive:${ours}`, remote);
    const theirs = `${fresh("skopeo")}.tar`;
    await skopeoRun(
      "copy",
      "--src-tls-verify=false",
      remote,
      `docker-archive:${theirs}:skopeo/written:7`,
    );

    const tarball = await openTarball(theirs);
    expect(tarball.descriptors[0]?.RepoTags).toEqual(["docker.io/skopeo/written:7"]);
    const back = await tarball.image({ tag: "skopeo/written:7" });
    const expected = await identity(image);
    expect(String(await back.configName())).toBe(expected.config);
    expect((await identity(back)).diffIDs).toEqual(expected.diffIDs);
    expect(await layerTars(back)).toEqual(await layerTars(image));
    // Layers are stored uncompressed: kept, their digests are their diffIDs.
    const kept = await imageFromTarball(theirs, { uncompressedLayers: "keep" });
    expect((await identity(kept)).layers).toEqual(expected.diffIDs);

    // And what we read from skopeo's file we write again for skopeo.
    const rewritten = `${fresh("rewritten")}.tar`;
    await writeTarball(rewritten, { image: back, refs: ["again:1"] });
    const inspected = JSON.parse(await skopeoRun("inspect", `docker-archive:${rewritten}`));
    expect(inspected.Layers).toEqual(expected.diffIDs);
    await tarball.close();
  });

  it("reads skopeo's docker-archive made from an OCI layout", async () => {
    const image = await sampleImage();
    const ours = `${fresh("to-layout")}.tar`;
    await writeTarball(ours, { image, refs: ["x:1"] });
    const layout = fresh("layout");
    await skopeoRun("copy", `docker-archive:${ours}`, `oci:${layout}:x`);
    const theirs = `${fresh("from-layout")}.tar`;
    await skopeoRun("copy", `oci:${layout}:x`, `docker-archive:${theirs}:from/layout:1`);
    // skopeo's layout holds its re-encoded config; the archive it writes from there must read
    // back with that config's digest, and with our layers' contents.
    const { configDigest, config } = await readLayout(layout);
    const back = await imageFromTarball(theirs, { tag: "from/layout:1" });
    expect(String(await back.configName())).toBe(configDigest);
    expect(await back.configFile()).toEqual(config);
    expect((await identity(back)).diffIDs).toEqual((await identity(image)).diffIDs);
    expect(await layerTars(back)).toEqual(await layerTars(image));
  });
});

describe("GNU tar reads our archives", () => {
  it("lists and extracts a tarball: every blob file is what manifest.json names", async () => {
    const image = await sampleImage();
    const path = `${fresh("gnu")}.tar`;
    const [descriptor] = await writeTarball(path, { image, refs: ["gnu:1"] }, { legacy: true });
    const { stdout } = await run(gnuTar, ["-tvf", path]);
    expect(stdout).toContain("manifest.json");
    const extracted = fresh("extracted");
    await mkdir(extracted);
    await run(gnuTar, ["-xf", path, "-C", extracted]);
    const tree = await listTree(extracted);
    for (const name of [
      descriptor?.Config,
      ...(descriptor?.Layers ?? []),
      "manifest.json",
      "repositories",
    ]) {
      expect(tree).toContain(name);
    }
    // GNU tar checks each layer blob as a gzipped tar.
    for (const layer of descriptor?.Layers ?? []) {
      await run(gnuTar, ["-tzf", join(extracted, layer)]);
    }
    expect(await readFile(join(extracted, descriptor?.Config as string))).toEqual(
      Buffer.from(await image.rawConfigFile()),
    );
  });

  it("extracts an export into exactly the image's files", async () => {
    const image = await sampleImage();
    const path = `${fresh("export")}.tar`;
    await exportImage(image, path);
    const root = fresh("rootfs");
    await mkdir(root);
    await run(gnuTar, ["-xf", path, "-C", root]);
    expect(await listTree(root)).toEqual([
      "app",
      "app/main.js",
      "bin",
      "bin/tool",
      "etc",
      "etc/os-release",
    ]);
    expect((await readFile(join(root, "bin/tool"))).toString()).toBe("#!/bin/sh\necho hi\n");
    const { stdout } = await run(gnuTar, ["-tvf", path]);
    expect(stdout).toMatch(/-rwxr-xr-x 0\/0 +18 1970-01-01 00:00 bin\/tool/);
  });
});
