import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { useDockerRegistry } from "@hoist/harness";
import { startRegistry } from "@hoist/registry";
import { createLayerTar, type FileMap } from "@hoist/tarball";
import { beforeAll, describe, expect, it } from "vitest";
import { layoutWith, sha256, skopeo, skopeoRaw, testImage, testIndex } from "./fixtures.js";
import { expectOneLineError, isolatedEnv, runCli, useTempDir } from "./helpers.js";

// append, mutate, export, flatten, rebase, index and validate against docker-registry; skopeo
// reads back every manifest and config that was written.

const registry = useDockerRegistry();
const temp = useTempDir();
const env = () => isolatedEnv(temp());
const hoist = (...args: string[]) => runCli(args, { env: env() });
const at = (path: string) => `${registry().host}/${path}`;
const config = async (ref: string) =>
  JSON.parse(
    (
      await skopeo(["inspect", "--config", "--raw", "--tls-verify=false", `docker://${ref}`])
    ).toString(),
  );
const manifestOf = async (ref: string) => JSON.parse((await skopeoRaw(ref)).toString());
const digestOf = (stdout: string) => stdout.trim().split("@")[1] as string;
const tarNames = (path: string) =>
  execFileSync("tar", ["-tf", path], { encoding: "utf8" }).trim().split("\n").sort();

async function tarFile(name: string, files: FileMap): Promise<string> {
  const path = join(temp(), name);
  await writeFile(path, await createLayerTar(files));
  return path;
}

beforeAll(async () => {
  const image = await layoutWith(temp(), "base-image", [testImage("transform-base")]);
  const index = await layoutWith(temp(), "base-index", [testIndex("transform-index")]);
  expect((await hoist("push", image, at("t/base:v1"))).status).toBe(0);
  expect((await hoist("push", index, at("t/multi:v1"))).status).toBe(0);
}, 120_000);

describe("append", () => {
  it("adds one layer per tarball onto a base and prints repo@digest", async () => {
    const layer = await tarFile("hello.tar", { "hello.txt": "hello" });
    const result = await hoist(
      "append",
      "-b",
      at("t/base:v1"),
      "-f",
      layer,
      "-t",
      at("t/appended:v1"),
      "--set-base-image-annotations",
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.out).toBe(
      `${at("t/appended")}@${sha256(await skopeoRaw(at("t/appended:v1")))}\n`,
    );
    const manifest = await manifestOf(at("t/appended:v1"));
    expect(manifest.layers).toHaveLength(3);
    expect(manifest.layers[2].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(manifest.annotations["org.opencontainers.image.base.name"]).toBe(at("t/base:v1"));
    expect(manifest.annotations["org.opencontainers.image.base.digest"]).toBe(
      sha256(await skopeoRaw(at("t/base:v1"))),
    );
  });

  it("starts from an empty Docker image without a base (with a warning), OCI with --oci-empty-base", async () => {
    const layer = await tarFile("only.tar", { "only.txt": "x" });
    const docker = await hoist("append", "-f", layer, "-t", at("t/empty:docker"));
    expect(docker.status, docker.stderr).toBe(0);
    expect(docker.stderr).toContain("base unspecified, using empty image");
    expect((await manifestOf(at("t/empty:docker"))).mediaType).toBe(
      "application/vnd.docker.distribution.manifest.v2+json",
    );
    const oci = await hoist("append", "--oci-empty-base", "-f", layer, "-t", at("t/empty:oci"));
    expect(oci.status).toBe(0);
    expect((await manifestOf(at("t/empty:oci"))).mediaType).toBe(
      "application/vnd.oci.image.manifest.v1+json",
    );
  });

  it("reads a layer from stdin with -f -, and writes a tarball with -o", async () => {
    const bytes = await createLayerTar({ "stdin.txt": "from stdin" });
    const out = join(temp(), "appended.tar");
    const result = await runCli(["append", "-f", "-", "-t", at("t/stdin:v1"), "-o", out], {
      env: env(),
      stdin: Buffer.from(bytes),
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.out).toBe("");
    const inspected = JSON.parse((await skopeo(["inspect", `docker-archive:${out}`])).toString());
    expect(inspected.Layers).toHaveLength(1);
  });
});

describe("mutate", () => {
  it("sets config fields and pushes over the original tag", async () => {
    expect((await hoist("cp", at("t/base:v1"), at("t/mutable:v1"))).status).toBe(0);
    const result = await hoist(
      "mutate",
      at("t/mutable:v1"),
      "-l",
      "team=core",
      "-l",
      "tier=web",
      "-e",
      "PATH=/bin",
      "-e",
      "MODE=prod",
      "--entrypoint",
      "/app,--serve",
      "-u",
      "1000",
      "-w",
      "/srv",
      "--exposed-ports",
      "8080/tcp,9090",
      "-a",
      "org.example/note=hi",
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.out).toBe(`${at("t/mutable")}@${sha256(await skopeoRaw(at("t/mutable:v1")))}\n`);
    const cfg = await config(at("t/mutable:v1"));
    expect(cfg.config.Labels).toEqual({ team: "core", tier: "web" });
    expect(cfg.config.Env).toEqual(["PATH=/bin", "MODE=prod"]);
    expect(cfg.config.Entrypoint).toEqual(["/app", "--serve"]);
    expect(cfg.config.Cmd).toBeUndefined();
    expect(cfg.config.User).toBe("1000");
    expect(cfg.config.WorkingDir).toBe("/srv");
    expect(cfg.config.ExposedPorts).toEqual({ "8080/tcp": {}, "9090": {} });
    expect((await manifestOf(at("t/mutable:v1"))).annotations).toEqual({
      "org.example/note": "hi",
    });
  });

  it("replaces env values in place, sets the platform, and pushes by digest for a digest source", async () => {
    const source = at(`t/mutable@${sha256(await skopeoRaw(at("t/mutable:v1")))}`);
    const result = await hoist(
      "mutate",
      source,
      "-e",
      "PATH=/usr/bin",
      "--set-platform",
      "linux/arm64/v8",
      "--cmd",
      "run",
    );
    expect(result.status, result.stderr).toBe(0);
    const pushed = digestOf(result.out);
    const cfg = await config(at(`t/mutable@${pushed}`));
    expect(cfg.config.Env).toEqual(["PATH=/usr/bin", "MODE=prod"]);
    expect([cfg.os, cfg.architecture, cfg.variant]).toEqual(["linux", "arm64", "v8"]);
    expect(cfg.config.Cmd).toEqual(["run"]);
  });

  it("pushes to -t or by digest to --repo, and writes -o tarballs", async () => {
    const tagged = await hoist("mutate", at("t/base:v1"), "-l", "x=1", "-t", at("t/mutated:new"));
    expect(tagged.status).toBe(0);
    expect(tagged.out).toBe(`${at("t/mutated")}@${sha256(await skopeoRaw(at("t/mutated:new")))}\n`);
    const repo = await hoist("mutate", at("t/base:v1"), "-l", "x=2", "--repo", at("t/byrepo"));
    expect(repo.status).toBe(0);
    expect(sha256(await skopeoRaw(at(`t/byrepo@${digestOf(repo.out)}`)))).toBe(digestOf(repo.out));
    const out = join(temp(), "mutated.tar");
    expect((await hoist("mutate", at("t/base:v1"), "-l", "x=3", "-o", out)).status).toBe(0);
    expect(tarNames(out)).toContain("manifest.json");
  });

  it("refuses what crane refuses, in one line", async () => {
    expect(expectOneLineError(await hoist("mutate", at("t/multi:v1"), "-a", "a=b"))).toBe(
      "Error: mutating annotations on an index is not yet supported",
    );
    expect(
      expectOneLineError(
        await hoist("mutate", at("t/base:v1"), "-t", at("a:b"), "--repo", at("c")),
      ),
    ).toBe("Error: repository can't be set when a tag is specified");
    expect(expectOneLineError(await hoist("mutate", at("t/base:v1"), "-l", "empty="))).toBe(
      'Error: parsing label "empty", value is empty',
    );
  });
});

describe("export", () => {
  it("writes the flattened filesystem, whiteouts applied, to a file or stdout", async () => {
    const first = await tarFile("first.tar", {
      "keep.txt": "keep",
      "gone.txt": "gone",
      "dir/": { type: "directory" },
      "dir/old": "x",
    });
    const second = await tarFile("second.tar", {
      ".wh.gone.txt": "",
      "dir/": { type: "directory" },
      "dir/.wh..wh..opq": "",
      "dir/new": "y",
    });
    expect(
      (
        await hoist(
          "append",
          "--oci-empty-base",
          "-f",
          `${first},${second}`,
          "-t",
          at("t/layers:v1"),
        )
      ).status,
    ).toBe(0);
    const path = join(temp(), "fs.tar");
    const toFile = await hoist("export", at("t/layers:v1"), path);
    expect(toFile.status, toFile.stderr).toBe(0);
    expect(tarNames(path)).toEqual(["dir/", "dir/new", "keep.txt"]);
    const toStdout = await hoist("export", at("t/layers:v1"));
    expect(toStdout.status).toBe(0);
    const piped = join(temp(), "fs-stdout.tar");
    await writeFile(piped, toStdout.stdout);
    expect(tarNames(piped)).toEqual(["dir/", "dir/new", "keep.txt"]);
  });

  it("reads a docker tarball from stdin with -", async () => {
    const archive = join(temp(), "for-export.tar");
    expect((await hoist("pull", at("t/layers:v1"), archive)).status).toBe(0);
    const { readFile } = await import("node:fs/promises");
    const result = await runCli(["export", "-", "-"], {
      env: env(),
      stdin: await readFile(archive),
    });
    expect(result.status, result.stderr).toBe(0);
    const path = join(temp(), "from-stdin.tar");
    await writeFile(path, result.stdout);
    expect(tarNames(path)).toEqual(["dir/", "dir/new", "keep.txt"]);
  });
});

describe("flatten", () => {
  it("squashes an image into one layer, keeping its files", async () => {
    const result = await hoist("flatten", at("t/layers:v1"), "-t", at("t/flat:v1"));
    expect(result.status, result.stderr).toBe(0);
    expect(result.out).toBe(`${at("t/flat")}@${sha256(await skopeoRaw(at("t/flat:v1")))}\n`);
    const manifest = await manifestOf(at("t/flat:v1"));
    expect(manifest.layers).toHaveLength(1);
    const cfg = await config(at("t/flat:v1"));
    expect(cfg.history[0].created_by).toMatch(/^hoist flatten sha256:[0-9a-f]{64}$/);
    const path = join(temp(), "flat-fs.tar");
    expect((await hoist("export", at("t/flat:v1"), path)).status).toBe(0);
    expect(tarNames(path)).toEqual(["dir/", "dir/new", "keep.txt"]);
  });

  it("flattens every image of an index, keeping platforms", async () => {
    const result = await hoist("flatten", at("t/multi:v1"), "-t", at("t/flatmulti:v1"));
    expect(result.status, result.stderr).toBe(0);
    const index = await manifestOf(at("t/flatmulti:v1"));
    expect(
      index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
    ).toEqual(["amd64", "arm64"]);
    expect(result.out).toBe(
      `${at("t/flatmulti")}@${sha256(await skopeoRaw(at("t/flatmulti:v1")))}\n`,
    );
  });
});

describe("rebase", () => {
  it("moves an image's own layers onto the new base named by its annotations", async () => {
    const oldBase = await layoutWith(temp(), "old-base", [testImage("old-base", 1)]);
    const newBase = await layoutWith(temp(), "new-base", [testImage("new-base", 2)]);
    expect((await hoist("push", oldBase, at("rb/base:latest"))).status).toBe(0);
    const layer = await tarFile("app.tar", { "app.txt": "app" });
    const app = await hoist(
      "append",
      "-b",
      at("rb/base:latest"),
      "-f",
      layer,
      "-t",
      at("rb/app:v1"),
      "--set-base-image-annotations",
    );
    expect(app.status).toBe(0);
    const newPush = await hoist("push", newBase, at("rb/base:latest"));
    expect(newPush.status).toBe(0);

    const result = await hoist("rebase", at("rb/app:v1"), "-t", at("rb/app:rebased"));
    expect(result.status, result.stderr).toBe(0);
    expect(result.out).toBe(`${at("rb/app")}@${sha256(await skopeoRaw(at("rb/app:rebased")))}\n`);
    const rebased = await manifestOf(at("rb/app:rebased"));
    const base = await manifestOf(at("rb/base:latest"));
    const original = await manifestOf(at("rb/app:v1"));
    expect(rebased.layers.map((l: { digest: string }) => l.digest)).toEqual([
      ...base.layers.map((l: { digest: string }) => l.digest),
      original.layers.at(-1).digest,
    ]);
    expect(rebased.annotations["org.opencontainers.image.base.digest"]).toBe(digestOf(newPush.out));
  });

  it("refuses an index without --platform", async () => {
    expect(
      expectOneLineError(
        await hoist("rebase", at("t/multi:v1"), "--new_base", at("a"), "--old_base", at("b")),
      ),
    ).toBe("Error: rebasing an index is not yet supported");
  });
});

describe("index", () => {
  it("list prints crane's table for a remote index and a local layout", async () => {
    const index = await manifestOf(at("t/multi:v1"));
    const expected =
      `${"Digest".padEnd(70)} ${"MediaType".padEnd(20)} Platform\n` +
      `${index.manifests[0].digest} ${index.manifests[0].mediaType} linux/amd64\n` +
      `${index.manifests[1].digest} ${index.manifests[1].mediaType} linux/arm64/v8\n`;
    expect((await hoist("index", "list", at("t/multi:v1"))).out).toBe(expected);
    const layout = await hoist("index", "list", join(temp(), "base-index"));
    expect(layout.out.split("\n")[1]).toMatch(
      /^sha256:[0-9a-f]{64} application\/vnd\.oci\.image\.index\.v1\+json -$/,
    );
    expect(expectOneLineError(await hoist("index", "list", at("t/base:v1")))).toMatch(
      /to be an index/,
    );
  });

  it("filter keeps the platforms asked for", async () => {
    const result = await hoist(
      "index",
      "filter",
      at("t/multi:v1"),
      "--platform",
      "linux/arm64",
      "-t",
      at("t/arm-only:v1"),
    );
    expect(result.status, result.stderr).toBe(0);
    const filtered = await manifestOf(at("t/arm-only:v1"));
    expect(filtered.manifests).toHaveLength(1);
    expect(filtered.manifests[0].platform.architecture).toBe("arm64");
    expect(result.out).toBe(
      `${at("t/arm-only")}@${sha256(await skopeoRaw(at("t/arm-only:v1")))}\n`,
    );
  });

  it("append builds an index from images, with platforms from their configs", async () => {
    await hoist("mutate", at("t/base:v1"), "--set-platform", "linux/s390x", "-t", at("t/s390x:v1"));
    const result = await hoist(
      "index",
      "append",
      "-m",
      at("t/base:v1"),
      "-m",
      at("t/s390x:v1"),
      "-t",
      at("t/built:v1"),
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("base unspecified, using empty index");
    const built = await manifestOf(at("t/built:v1"));
    expect(
      built.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
    ).toEqual(["amd64", "s390x"]);
    const onto = await hoist(
      "index",
      "append",
      at("t/multi:v1"),
      at("t/s390x:v1"),
      "-t",
      at("t/extended:v1"),
    );
    expect(onto.status, onto.stderr).toBe(0);
    expect((await manifestOf(at("t/extended:v1"))).manifests).toHaveLength(3);
  });

  it("append into a local layout path creates it", async () => {
    const result = await runCli(["index", "append", "./made-layout", "-m", at("t/base:v1")], {
      env: env(),
      cwd: temp(),
    });
    expect(result.status, result.stderr).toBe(0);
    const listed = await hoist("index", "list", join(temp(), "made-layout"));
    expect(listed.out.split("\n")[1]).toMatch(/ linux\/amd64$/);
  });
});

describe("validate", () => {
  it("passes sound images, indexes and tarballs", async () => {
    expect((await hoist("validate", "--remote", at("t/base:v1"))).out).toBe(
      `PASS: ${at("t/base:v1")}\n`,
    );
    expect((await hoist("validate", "--remote", at("t/multi:v1"), "--fast")).out).toBe(
      `PASS: ${at("t/multi:v1")}\n`,
    );
    const archive = join(temp(), "validate.tar");
    expect((await hoist("pull", at("t/base:v1"), archive)).status).toBe(0);
    expect((await hoist("validate", "--tarball", archive)).out).toBe(`PASS: ${archive}\n`);
  });

  it("fails a registry that serves wrong blob bytes: FAIL on stdout, one line on stderr", async () => {
    const faulty = await startRegistry({
      faults: {
        rules: [
          {
            route: "blob",
            method: "GET",
            respond: async ({ forward }) => {
              const real = await forward();
              return real.body.length > 1000
                ? { ...real, body: Buffer.alloc(real.body.length, 7) }
                : real;
            },
          },
        ],
      },
    });
    try {
      const layout = await layoutWith(temp(), "to-corrupt", [testImage("corrupt")]);
      expect((await hoist("push", layout, `${faulty.host}/bad/app:v1`)).status).toBe(0);
      const result = await hoist("validate", "--remote", `${faulty.host}/bad/app:v1`);
      expect(result.status).toBe(1);
      expect(
        result.out.startsWith(`FAIL: ${faulty.host}/bad/app:v1: image failed validation: `),
      ).toBe(true);
      expect(result.out).toMatch(/layer 0: blob sha256:[0-9a-f]{64} hashed to sha256:[0-9a-f]{64}/);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    } finally {
      await faulty.close();
    }
  });
});
