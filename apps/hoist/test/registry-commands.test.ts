import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { useDockerRegistry } from "@hoist/harness";
import { openLayout } from "@hoist/layout";
import { randomImage } from "@hoist/oci";
import { beforeAll, describe, expect, it } from "vitest";
import { layoutWith, sha256, skopeo, skopeoRaw, testImage, testIndex } from "./fixtures.js";
import { expectOneLineError, isolatedEnv, runCli, useTempDir } from "./helpers.js";

// Every command against Debian's docker-registry, run as a user runs hoist; skopeo reads back
// what was written. stdout is compared byte for byte with what crane prints.

const registry = useDockerRegistry();
const temp = useTempDir();
const env = () => isolatedEnv(temp());
const hoist = (...args: string[]) => runCli(args, { env: env() });
const at = (path: string) => `${registry().host}/${path}`;

let imageDigest: string;
let indexDigest: string;

beforeAll(async () => {
  const image = await layoutWith(temp(), "image", [testImage("commands-image")]);
  const index = await layoutWith(temp(), "index", [testIndex("commands-index")]);
  const pushedImage = await hoist("push", image, at("cmd/app:v1"));
  const pushedIndex = await hoist("push", index, at("cmd/multi:v1"));
  expect(pushedImage.status, pushedImage.stderr).toBe(0);
  expect(pushedIndex.status, pushedIndex.stderr).toBe(0);
  imageDigest = pushedImage.out.trim().split("@")[1] as string;
  indexDigest = pushedIndex.out.trim().split("@")[1] as string;
}, 120_000);

describe("push", () => {
  it("prints repo@digest, and skopeo reads exactly that manifest", async () => {
    expect(sha256(await skopeoRaw(at("cmd/app:v1")))).toBe(imageDigest);
    expect(sha256(await skopeoRaw(at("cmd/multi:v1")))).toBe(indexDigest);
    const layout = await openLayout(join(temp(), "image"));
    const [entry] = (await layout.indexManifest()).manifests;
    expect(String(entry?.digest)).toBe(imageDigest);
  });

  it("writes --image-refs (no newline, mode 0600) and prints the same", async () => {
    const refs = join(temp(), "refs.txt");
    const result = await hoist(
      "push",
      join(temp(), "image"),
      at("cmd/refs:v1"),
      "--image-refs",
      refs,
    );
    expect(result.status).toBe(0);
    expect(result.out).toBe(`${at("cmd/refs")}@${imageDigest}\n`);
    expect(await readFile(refs, "utf8")).toBe(`${at("cmd/refs")}@${imageDigest}`);
    expect((await stat(refs)).mode & 0o777).toBe(0o600);
  });

  it("needs --index for a layout of several entries, and then pushes it as one index", async () => {
    const both = await layoutWith(temp(), "both", [testImage("both-a"), testImage("both-b")]);
    expect(expectOneLineError(await hoist("push", both, at("cmd/both:v1")))).toBe(
      "Error: layout contains 2 entries, consider --index",
    );
    const pushed = await hoist("push", "--index", both, at("cmd/both:v1"));
    expect(pushed.status, pushed.stderr).toBe(0);
    const raw = await skopeoRaw(at("cmd/both:v1"));
    expect(pushed.out).toBe(`${at("cmd/both")}@${sha256(raw)}\n`);
    expect(JSON.parse(raw.toString()).manifests).toHaveLength(2);
  });

  it("pushes a docker-archive tarball that skopeo wrote", async () => {
    const archive = join(temp(), "skopeo.tar");
    await skopeo([
      "copy",
      "--src-tls-verify=false",
      `docker://${at("cmd/app:v1")}`,
      `docker-archive:${archive}`,
    ]);
    const pushed = await hoist("push", archive, at("cmd/from-archive:v1"));
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(pushed.out).toBe(
      `${at("cmd/from-archive")}@${sha256(await skopeoRaw(at("cmd/from-archive:v1")))}\n`,
    );
    const config = await skopeo([
      "inspect",
      "--config",
      "--raw",
      "--tls-verify=false",
      `docker://${at("cmd/from-archive:v1")}`,
    ]);
    const original = await skopeo([
      "inspect",
      "--config",
      "--raw",
      "--tls-verify=false",
      `docker://${at("cmd/app:v1")}`,
    ]);
    expect(JSON.parse(config.toString()).rootfs).toEqual(JSON.parse(original.toString()).rootfs);
  });
});

describe("reading", () => {
  it("digest prints sha256:… and a newline; --full-ref the repository too", async () => {
    expect((await hoist("digest", at("cmd/app:v1"))).out).toBe(`${imageDigest}\n`);
    expect((await hoist("digest", "--full-ref", at("cmd/app:v1"))).out).toBe(
      `${at("cmd/app")}@${imageDigest}\n`,
    );
    expect((await hoist("digest", at(`cmd/app@${imageDigest}`))).out).toBe(`${imageDigest}\n`);
  });

  it("digest --platform picks the index's child; without it the index itself", async () => {
    const index = JSON.parse((await skopeoRaw(at("cmd/multi:v1"))).toString());
    const arm = index.manifests.find(
      (m: { platform: { architecture: string } }) => m.platform.architecture === "arm64",
    );
    expect((await hoist("digest", "--platform", "linux/arm64/v8", at("cmd/multi:v1"))).out).toBe(
      `${arm.digest}\n`,
    );
    expect((await hoist("digest", at("cmd/multi:v1"))).out).toBe(`${indexDigest}\n`);
  });

  it("manifest prints the raw bytes without a newline; --platform the child's", async () => {
    const result = await hoist("manifest", at("cmd/multi:v1"));
    expect(result.stdout.equals(await skopeoRaw(at("cmd/multi:v1")))).toBe(true);
    const child = await hoist("manifest", "--platform", "linux/amd64", at("cmd/multi:v1"));
    const index = JSON.parse(result.out);
    expect(sha256(child.stdout)).toBe(index.manifests[0].digest);
  });

  it("config prints the raw config blob", async () => {
    const result = await hoist("config", at("cmd/app:v1"));
    const witness = await skopeo([
      "inspect",
      "--config",
      "--raw",
      "--tls-verify=false",
      `docker://${at("cmd/app:v1")}`,
    ]);
    expect(result.stdout.equals(witness)).toBe(true);
  });

  it("blob streams the verified blob", async () => {
    const manifest = JSON.parse((await skopeoRaw(at("cmd/app:v1"))).toString());
    const layer = manifest.layers[0];
    const result = await hoist("blob", at(`cmd/app@${layer.digest}`));
    expect(result.stdout.length).toBe(layer.size);
    expect(sha256(result.stdout)).toBe(layer.digest);
  });

  it("ls prints one tag per line; --full-ref and -O as crane", async () => {
    await hoist("tag", at("cmd/app:v1"), "v2");
    await hoist("tag", at("cmd/app:v1"), `sha256-${"a".repeat(64)}`);
    const witness = JSON.parse(
      (await skopeo(["list-tags", "--tls-verify=false", `docker://${at("cmd/app")}`])).toString(),
    );
    const plain = await hoist("ls", at("cmd/app"));
    expect(plain.out).toBe(`${witness.Tags.join("\n")}\n`);
    expect((await hoist("ls", "-O", at("cmd/app"))).out).toBe("v1\nv2\n");
    expect((await hoist("ls", "--full-ref", "--omit-digest-tags", at("cmd/app"))).out).toBe(
      `${at("cmd/app")}:v1\n${at("cmd/app")}:v2\n`,
    );
  });

  it("catalog lists repositories; --full-ref prefixes the registry as given", async () => {
    const result = await hoist("catalog", registry().host);
    expect(result.out.split("\n")).toEqual(expect.arrayContaining(["cmd/app", "cmd/multi"]));
    const full = await hoist("catalog", "--full-ref", registry().host);
    expect(full.out.split("\n")).toContain(at("cmd/app"));
  });
});

describe("writing", () => {
  it("tag adds a tag to the same manifest", async () => {
    const result = await hoist("tag", at("cmd/app:v1"), "stable");
    expect(result.status).toBe(0);
    expect(result.out).toBe("");
    expect(sha256(await skopeoRaw(at("cmd/app:stable")))).toBe(imageDigest);
  });

  it("copy keeps the digest of an image and of an index", async () => {
    expect((await hoist("cp", at("cmd/app:v1"), at("copy/app:v1"))).status).toBe(0);
    expect((await hoist("copy", at("cmd/multi:v1"), at("copy/multi:v1"))).status).toBe(0);
    expect(sha256(await skopeoRaw(at("copy/app:v1")))).toBe(imageDigest);
    expect(sha256(await skopeoRaw(at("copy/multi:v1")))).toBe(indexDigest);
  });

  it("copy --platform copies one image out of an index", async () => {
    expect(
      (await hoist("cp", "--platform", "linux/arm64/v8", at("cmd/multi:v1"), at("copy/arm:v1")))
        .status,
    ).toBe(0);
    const raw = JSON.parse((await skopeoRaw(at("copy/arm:v1"))).toString());
    expect(raw.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
  });

  it("copy -a copies every tag, -n keeps existing ones", async () => {
    const result = await hoist("copy", "-a", "-j", "2", at("cmd/app"), at("all/app"));
    expect(result.status, result.stderr).toBe(0);
    const tags = JSON.parse(
      (await skopeo(["list-tags", "--tls-verify=false", `docker://${at("all/app")}`])).toString(),
    ).Tags;
    expect([...tags].sort()).toEqual([`sha256-${"a".repeat(64)}`, "stable", "v1", "v2"]);
    await hoist("cp", at("cmd/multi:v1"), at("all/app:v1"));
    const again = await hoist("copy", "--all-tags", "--no-clobber", at("cmd/app"), at("all/app"));
    expect(again.status).toBe(0);
    expect(sha256(await skopeoRaw(at("all/app:v1")))).toBe(indexDigest);
  });

  it("copy -n refuses to overwrite an existing tag", async () => {
    const result = await hoist("cp", "-n", at("cmd/multi:v1"), at("copy/app:v1"));
    expect(expectOneLineError(result)).toBe(
      `Error: refusing to clobber existing tag ${at("copy/app:v1")}@${imageDigest}`,
    );
  });

  it("delete removes a manifest", async () => {
    await hoist("cp", at("cmd/app:v1"), at("doomed/app:v1"));
    const result = await hoist("delete", at(`doomed/app@${imageDigest}`));
    expect(result.status, result.stderr).toBe(0);
    await expect(skopeoRaw(at("doomed/app:v1"))).rejects.toThrow();
  });
});

describe("pull", () => {
  it("writes a docker tarball skopeo can read, with crane's tag for digest references", async () => {
    const path = join(temp(), "pulled.tar");
    const result = await hoist("pull", at("cmd/app:v1"), at(`cmd/app@${imageDigest}`), path);
    expect(result.status, result.stderr).toBe(0);
    const { execFileSync } = await import("node:child_process");
    const manifest = JSON.parse(
      execFileSync("tar", ["-xOf", path, "manifest.json"], { encoding: "utf8" }),
    );
    expect(manifest.flatMap((m: { RepoTags: string[] }) => m.RepoTags).sort()).toEqual([
      at("cmd/app:i-was-a-digest"),
      at("cmd/app:v1"),
    ]);
    const inspected = JSON.parse(
      (await skopeo(["inspect", `docker-archive:${path}:${at("cmd/app:v1")}`])).toString(),
    );
    expect(inspected.Layers).toHaveLength(2);
    const byDigest = JSON.parse(
      (
        await skopeo(["inspect", `docker-archive:${path}:${at("cmd/app:i-was-a-digest")}`])
      ).toString(),
    );
    expect(byDigest.Layers).toEqual(inspected.Layers);
    // A tarball keeps no manifest: its image's manifest is made anew (Docker media types, as
    // crane's), so --tarball gives the digest that pushing the tarball produces.
    const digest = await hoist("digest", "--tarball", path, at("cmd/app:v1"));
    expect(digest.out).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const single = join(temp(), "single.tar");
    expect((await hoist("pull", at("cmd/app:v1"), single)).status).toBe(0);
    const pushed = await hoist("push", single, at("cmd/from-pull:v1"));
    expect((await hoist("digest", "--tarball", single)).out).toBe(
      `${pushed.out.trim().split("@")[1]}\n`,
    );
    expect(expectOneLineError(await hoist("digest", "--tarball", single, "--full-ref"))).toBe(
      "Error: cannot specify --full-ref with --tarball",
    );
  });

  it("--format legacy adds the repositories file", async () => {
    const path = join(temp(), "legacy.tar");
    expect((await hoist("pull", "--format", "legacy", at("cmd/app:v1"), path)).status).toBe(0);
    const { execFileSync } = await import("node:child_process");
    expect(execFileSync("tar", ["-tf", path], { encoding: "utf8" }).split("\n")).toContain(
      "repositories",
    );
  });

  it("--format oci keeps an index whole, appends, and --annotate-ref names entries", async () => {
    const path = join(temp(), "pulled-layout");
    const first = await hoist(
      "pull",
      "--format",
      "oci",
      "--annotate-ref",
      at("cmd/multi:v1"),
      path,
    );
    expect(first.status, first.stderr).toBe(0);
    const second = await hoist("pull", "--format=oci", at("cmd/app:v1"), path);
    expect(second.status).toBe(0);
    const layout = await openLayout(path);
    const entries = (await layout.indexManifest()).manifests;
    expect(entries.map((e) => String(e.digest))).toEqual([indexDigest, imageDigest]);
    expect(entries[0]?.annotations?.["org.opencontainers.image.ref.name"]).toBe(at("cmd/multi:v1"));
    // skopeo finds the entry by the name --annotate-ref gave it and reads it back.
    const named = join(temp(), "named-layout");
    expect(
      (await hoist("pull", "--format", "oci", "--annotate-ref", at("cmd/app:v1"), named)).status,
    ).toBe(0);
    const raw = await skopeo(["inspect", "--raw", `oci:${named}:${at("cmd/app:v1")}`]);
    expect(sha256(raw)).toBe(imageDigest);
  });

  it("--format oci leaves no layout behind when the image is not there, as crane", async () => {
    // The layout is made while the manifest is fetched; a failed pull takes it back.
    const path = join(temp(), "never-made");
    const missing = await hoist("pull", "--format", "oci", at("cmd/app:nope"), path);
    expect(missing.status, missing.stderr).toBe(1);
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    // A directory the user made is left as it was.
    const empty = join(temp(), "empty-dir");
    await mkdir(empty);
    expect((await hoist("pull", "--format", "oci", at("cmd/app:nope"), empty)).status).toBe(1);
    expect(await readdir(empty)).toEqual([]);
  });

  it("collects the young generation every 8 MiB it moves, and the pull stays whole", async () => {
    // Spent 64 KiB socket buffers wait for a collection; the executable asks for one as bytes
    // move (--trace-gc names a requested collection "testing").
    const big = randomImage({ layers: 1, layerSize: 24 * 1024 * 1024, seed: "paced" });
    const layout = await layoutWith(temp(), "paced", [big]);
    expect((await hoist("push", layout, at("cmd/paced:v1"))).status).toBe(0);
    const path = join(temp(), "paced-pull");
    const pulled = await runCli(["pull", "--format", "oci", at("cmd/paced:v1"), path], {
      env: env(),
      nodeArgs: ["--trace-gc"],
    });
    expect(pulled.status, pulled.stderr).toBe(0);
    const requested = pulled.out.split("\n").filter((line) => /Scavenge.*testing/.test(line));
    expect(requested.length).toBeGreaterThanOrEqual(2);
    // Every blob arrived whole: each file hashes to its name, and the layer is among them.
    const blobs = await readdir(join(path, "blobs", "sha256"));
    for (const name of blobs) {
      expect(sha256(await readFile(join(path, "blobs", "sha256", name)))).toBe(`sha256:${name}`);
    }
    const [layer] = (await big.manifest()).layers;
    expect(blobs).toContain(String(layer?.digest).slice("sha256:".length));
  });

  it("--cache_path keeps layers by digest and reads them back", async () => {
    const cache = join(temp(), "cache");
    const path = join(temp(), "cached.tar");
    expect((await hoist("pull", "-c", cache, at("cmd/app:v1"), path)).status).toBe(0);
    const manifest = JSON.parse((await skopeoRaw(at("cmd/app:v1"))).toString());
    for (const layer of manifest.layers) {
      expect(sha256(await readFile(join(cache, layer.digest)))).toBe(layer.digest);
    }
    expect(
      (await hoist("pull", "--cache_path", cache, at("cmd/app:v1"), join(temp(), "again.tar")))
        .status,
    ).toBe(0);
  });

  it("refuses an unknown --format", async () => {
    expect(
      expectOneLineError(await hoist("pull", "--format", "zip", at("cmd/app:v1"), "x")),
    ).toMatch(/unexpected --format: "zip" \(valid values are: tarball, legacy, and oci\)/);
  });
});

describe("failures are one line on stderr with status 1", () => {
  it.each([
    ["a bad reference", ["digest", "UPPER/case:tag"], /UPPER\/case/],
    ["an unknown tag", ["manifest", "REG/cmd/app:nope"], /MANIFEST_UNKNOWN|not found/i],
    ["an unknown repository", ["ls", "REG/nothing/here"], /NAME_UNKNOWN|not found/i],
    ["a blob that is not a digest reference", ["blob", "REG/cmd/app:v1"], /digest/],
    ["a missing local file", ["push", "/nonexistent/x.tar", "REG/a:b"], /nonexistent/],
    ["an unreachable registry", ["digest", "127.0.0.1:1/a:b"], /reachable/],
  ])("%s", async (_, args, message) => {
    const result = await hoist(...args.map((a) => a.replace("REG", registry().host)));
    expect(expectOneLineError(result)).toMatch(message);
  });
});
