import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { findBinary, skopeoRun, useDockerRegistry } from "@hoist/harness";
import {
  appendLayers,
  type Image,
  type ImageIndex,
  layerFromBytes,
  MediaType,
  randomImage,
  randomIndex,
  setAnnotations,
  setConfig,
} from "@hoist/oci";
import { describe, expect, it } from "vitest";
import {
  createLayout,
  type Layout,
  matchPlatforms,
  openLayout,
  REF_NAME_ANNOTATION,
} from "../src/index.js";
import { imageDigests, indexDigests, useTempDirectories } from "./helpers.js";

// Interoperability with containers/image through the real skopeo: it reads the layouts hoist
// writes (oci: transport), copies them into Debian's docker-registry and back out into layouts
// of its own making, which hoist then reads, verifying every blob. Digests must survive every hop.

const run = promisify(execFile);
const skopeo = findBinary("skopeo", { debianPackage: "skopeo", candidates: ["/usr/bin/skopeo"] });
const tempDirectory = useTempDirectories("skopeo");

async function inspect(
  reference: string,
): Promise<{ Digest: string; Layers: string[]; Architecture: string }> {
  return JSON.parse(await skopeoRun("inspect", reference));
}

function testImage(seed: string, platform?: { os: string; architecture: string }): Image {
  return setAnnotations(
    setConfig(
      appendLayers(randomImage({ layers: 2, layerSize: 5000, seed, platform }), [
        layerFromBytes(Buffer.alloc(2048, 7), { compression: "gzip" }),
      ]),
      { Env: [`SEED=${seed}`], Cmd: ["/bin/true"] },
    ),
    { "org.opencontainers.image.title": seed },
  );
}

const platforms = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
  { os: "linux", architecture: "s390x" },
];

describe("skopeo and hoist layouts", () => {
  const registry = useDockerRegistry();

  it("skopeo reads an image from a layout hoist wrote, byte for byte", async () => {
    const layout = await createLayout(await tempDirectory());
    const image = testImage("inspect", { os: "linux", architecture: "arm64" });
    await layout.appendImage(image, { refName: "v1" });
    await layout.appendImage(testImage("other"), { refName: "other" });
    const reference = `oci:${layout.path}:v1`;

    expect(Buffer.from(await skopeoRun("inspect", "--raw", reference))).toEqual(
      Buffer.from(await image.rawManifest()),
    );
    expect(Buffer.from(await skopeoRun("inspect", "--config", "--raw", reference))).toEqual(
      Buffer.from(await image.rawConfigFile()),
    );
    const described = await inspect(reference);
    expect(described.Digest).toBe(String(await image.digest()));
    expect(described.Architecture).toBe("arm64");
    expect(described.Layers).toEqual(
      (await image.manifest()).layers.map((layer) => String(layer.digest)),
    );
  });

  it("skopeo copies a hoist layout into a layout of its own that hoist reads back", async () => {
    const ours = await createLayout(await tempDirectory());
    const image = testImage("copy");
    const index = randomIndex({ images: 3, layers: 2, seed: "copy-index", platforms });
    await ours.appendImage(image, { refName: "image" });
    await ours.appendIndex(index, { refName: "index" });
    const theirs = join(await tempDirectory(), "theirs");
    await skopeoRun("copy", `oci:${ours.path}:image`, `oci:${theirs}:image`);
    await skopeoRun("copy", "--all", `oci:${ours.path}:index`, `oci:${theirs}:index`);

    const read = await openLayout(theirs);
    expect(await imageDigests(await read.image("image"))).toEqual(await imageDigests(image));
    expect(await indexDigests(await read.index("index"))).toEqual(await indexDigests(index));
    // hoist can add to the layout skopeo made, and skopeo still reads all of it.
    const added = testImage("added");
    await read.appendImage(added, { refName: "added" });
    expect((await inspect(`oci:${theirs}:added`)).Digest).toBe(String(await added.digest()));
    expect((await inspect(`oci:${theirs}:image`)).Digest).toBe(String(await image.digest()));
    expect((await read.garbageCollect()).removed).toEqual([]);
  });

  it("pushes from a hoist layout with skopeo and reads skopeo's pull of it, digests equal", async () => {
    const ours = await createLayout(await tempDirectory());
    const image = testImage("push");
    await ours.appendImage(image, { refName: "push" });
    const repository = `${registry().host}/hoist/layout-image`;
    await skopeoRun(
      "copy",
      "--dest-tls-verify=false",
      `oci:${ours.path}:push`,
      `docker://${repository}:v1`,
    );
    const theirs = join(await tempDirectory(), "pulled");
    await skopeoRun(
      "copy",
      "--src-tls-verify=false",
      `docker://${repository}:v1`,
      `oci:${theirs}:pulled`,
    );

    const pulled = await openLayout(theirs);
    const back = await pulled.image("pulled");
    expect(await imageDigests(back)).toEqual(await imageDigests(image));
    expect((await back.configFile()).config?.Env).toEqual(["SEED=push"]);
    // Copying what skopeo wrote into yet another hoist layout keeps every digest too.
    const again = await createLayout(await tempDirectory());
    await again.appendImage(back, { refName: "again" });
    expect(await imageDigests(await again.image("again"))).toEqual(await imageDigests(image));
    expect((await inspect(`oci:${again.path}:again`)).Digest).toBe(String(await image.digest()));
  });

  it("round-trips a multi-platform index through docker-registry with skopeo copy --all", async () => {
    const ours = await createLayout(await tempDirectory());
    const index: ImageIndex = randomIndex({
      images: 3,
      layers: 2,
      layerSize: 3000,
      seed: "multi",
      platforms,
    });
    await ours.appendIndex(index, { refName: "multi" });
    const repository = `${registry().host}/hoist/layout-index`;
    await skopeoRun(
      "copy",
      "--all",
      "--dest-tls-verify=false",
      `oci:${ours.path}:multi`,
      `docker://${repository}:v1`,
    );
    const arm = await run(skopeo, [
      "inspect",
      "--tls-verify=false",
      "--override-arch",
      "arm64",
      "--override-variant",
      "v8",
      `docker://${repository}:v1`,
    ]);
    expect(JSON.parse(arm.stdout).Digest).toBe(String(await index.digest()));

    const theirs = join(await tempDirectory(), "pulled-index");
    await skopeoRun(
      "copy",
      "--all",
      "--src-tls-verify=false",
      `docker://${repository}:v1`,
      `oci:${theirs}:multi`,
    );
    const pulled = await openLayout(theirs);
    const back = await pulled.index("multi");
    expect(String(await back.digest())).toBe(String(await index.digest()));
    expect(await indexDigests(back)).toEqual(await indexDigests(index));
    const { manifests } = await index.indexManifest();
    for (const [position, platform] of platforms.entries()) {
      const chosen = await pulled.image("multi", { platform });
      expect(String(await chosen.digest())).toBe(String(manifests[position]?.digest));
    }
    const s390x = await pulled.findDescriptors(matchPlatforms(["linux/s390x"]), {
      recursive: true,
    });
    expect(s390x.map((entry) => String(entry.digest))).toEqual([String(manifests[2]?.digest)]);
    // skopeo named the entry as asked; hoist keeps what skopeo wrote.
    const top = JSON.parse(await readFile(join(theirs, "index.json"), "utf8")).manifests[0];
    expect(top.annotations[REF_NAME_ANNOTATION]).toBe("multi");
    expect(top.mediaType).toBe(MediaType.OCI_INDEX);
  });

  it("skopeo writes into a layout hoist created, next to hoist's entries", async () => {
    const source = await createLayout(await tempDirectory());
    const image = testImage("into");
    await source.appendImage(image, { refName: "into" });
    const target: Layout = await createLayout(await tempDirectory());
    const kept = testImage("kept");
    await target.appendImage(kept, { refName: "kept" });
    await skopeoRun("copy", `oci:${source.path}:into`, `oci:${target.path}:from-skopeo`);
    expect(await imageDigests(await target.image("from-skopeo"))).toEqual(
      await imageDigests(image),
    );
    expect(await imageDigests(await target.image("kept"))).toEqual(await imageDigests(kept));
    expect((await target.garbageCollect()).removed).toEqual([]);
  });
});
