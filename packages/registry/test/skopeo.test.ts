import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findBinary } from "@hoist/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCEPT_ALL, client, OCI_INDEX, OCI_MANIFEST, sha256 } from "./support/http.js";
import { type Descriptor, Layout } from "./support/oci-layout.js";
import { STORAGE_KINDS, useRegistry } from "./support/registries.js";

const run = promisify(execFile);
const skopeoBinary = () =>
  findBinary("skopeo", { debianPackage: "skopeo", candidates: ["/usr/bin/skopeo"] });

async function skopeo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(skopeoBinary(), ["--insecure-policy", ...args], {
      timeout: 120_000,
    });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`skopeo ${args.join(" ")} failed: ${stderr ?? String(error)}`);
  }
}

let work: string;
let source: Layout;
let single: Descriptor;
let multi: Descriptor;
let children: Descriptor[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hoist-registry-skopeo-"));
  source = await Layout.create(join(work, "source"));
  single = await source.image({ os: "linux", architecture: "amd64" }, "single image\n");
  children = [
    await source.image({ os: "linux", architecture: "amd64" }, "hello from amd64\n"),
    await source.image({ os: "linux", architecture: "arm64" }, "hello from arm64\n"),
  ];
  multi = await source.index(children);
  await source.name({ v1: single, multi });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Every blob an image or index needs, read from a layout: digest -> bytes check. */
async function expectSameContent(from: Layout, to: Layout, root: Descriptor): Promise<number> {
  const bytes = await to.read(root.digest);
  expect(sha256(bytes)).toBe(root.digest);
  expect(bytes.equals(await from.read(root.digest))).toBe(true);
  const document = JSON.parse(bytes.toString("utf8")) as {
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
  };
  let count = 1;
  for (const child of document.manifests ?? []) count += await expectSameContent(from, to, child);
  for (const blob of [document.config, ...(document.layers ?? [])]) {
    if (!blob) continue;
    expect(sha256(await to.read(blob.digest))).toBe(blob.digest);
    count++;
  }
  return count;
}

describe.each(STORAGE_KINDS)("skopeo against the registry (%s storage)", (kind) => {
  const registry = useRegistry(kind);
  const ref = (path: string) => `docker://${registry().host}/${path}`;

  it("copies a single image in and back out with identical digests", async () => {
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--preserve-digests",
      `oci:${source.dir}:v1`,
      ref("skopeo/single:v1"),
    );
    const api = client(registry().url);
    const head = await api.call("/v2/skopeo/single/manifests/v1", {
      method: "HEAD",
      headers: { Accept: OCI_MANIFEST },
    });
    expect(head.headers["docker-content-digest"]).toBe(single.digest);

    const raw = await skopeo("inspect", "--raw", "--tls-verify=false", ref("skopeo/single:v1"));
    expect(sha256(raw)).toBe(single.digest);
    expect(raw).toBe((await source.read(single.digest)).toString("utf8"));

    const out = await Layout.create(join(work, `out-single-${kind}`));
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      "--preserve-digests",
      ref("skopeo/single:v1"),
      `oci:${out.dir}:v1`,
    );
    expect((await out.entry("v1"))?.digest).toBe(single.digest);
    expect(await expectSameContent(source, out, single)).toBe(3);
  });

  it("copies a two-platform index with --all and back out with identical digests", async () => {
    await skopeo(
      "copy",
      "--all",
      "--dest-tls-verify=false",
      "--preserve-digests",
      `oci:${source.dir}:multi`,
      ref("skopeo/multi:multi"),
    );
    const api = client(registry().url);
    const get = await api.call("/v2/skopeo/multi/manifests/multi", {
      headers: { Accept: ACCEPT_ALL },
    });
    expect(get.headers["content-type"]).toBe(OCI_INDEX);
    expect(get.headers["docker-content-digest"]).toBe(multi.digest);
    for (const child of children) {
      const res = await api.call(`/v2/skopeo/multi/manifests/${child.digest}`, {
        method: "HEAD",
        headers: { Accept: OCI_MANIFEST },
      });
      expect(res.status).toBe(200);
    }

    const raw = await skopeo("inspect", "--raw", "--tls-verify=false", ref("skopeo/multi:multi"));
    expect(sha256(raw)).toBe(multi.digest);

    const out = await Layout.create(join(work, `out-multi-${kind}`));
    await skopeo(
      "copy",
      "--all",
      "--src-tls-verify=false",
      "--preserve-digests",
      ref("skopeo/multi:multi"),
      `oci:${out.dir}:multi`,
    );
    expect((await out.entry("multi"))?.digest).toBe(multi.digest);
    expect(await expectSameContent(source, out, multi)).toBe(1 + 2 * 3);
  });

  it("lists tags and deletes an image", async () => {
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--preserve-digests",
      `oci:${source.dir}:v1`,
      ref("skopeo/tags:one"),
    );
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--preserve-digests",
      `oci:${source.dir}:v1`,
      ref("skopeo/tags:two"),
    );
    const listed = JSON.parse(
      await skopeo("list-tags", "--tls-verify=false", ref("skopeo/tags")),
    ) as {
      Repository: string;
      Tags: string[];
    };
    expect(listed).toEqual({ Repository: `${registry().host}/skopeo/tags`, Tags: ["one", "two"] });
    await skopeo("delete", "--tls-verify=false", ref("skopeo/tags:one"));
    const api = client(registry().url);
    // skopeo deletes by digest, which removes every tag of the image.
    const gone = await api.call("/v2/skopeo/tags/manifests/two", {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(gone.status).toBe(404);
    expect(
      registry()
        .requests()
        .some((r) => r.method === "DELETE" && r.status === 202),
    ).toBe(true);
  });

  it("copies between repositories of the registry", async () => {
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--preserve-digests",
      `oci:${source.dir}:v1`,
      ref("skopeo/from:v1"),
    );
    registry().clearRequests();
    await skopeo(
      "copy",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      "--preserve-digests",
      ref("skopeo/from:v1"),
      ref("skopeo/to:v1"),
    );
    const raw = await skopeo("inspect", "--raw", "--tls-verify=false", ref("skopeo/to:v1"));
    expect(sha256(raw)).toBe(single.digest);
    // skopeo's blob-info cache knows the layer is in "skopeo/from", so it mounts it instead of
    // uploading it again; the config comes from the source and is uploaded.
    const log = registry().requests();
    const mounts = log.filter(
      (r) => r.method === "POST" && r.repository === "skopeo/to" && r.url.includes("mount="),
    );
    expect(mounts.map((r) => r.status)).toContain(201);
    expect(
      log.some(
        (r) =>
          r.method === "PUT" &&
          r.repository === "skopeo/to" &&
          r.route === "manifest" &&
          r.status === 201,
      ),
    ).toBe(true);
  });
});

describe("skopeo with bearer authentication", () => {
  const registry = useRegistry("memory", { auth: { type: "bearer", users: { ci: "s3cret" } } });

  it("gets tokens from the registry's token endpoint and pushes", async () => {
    const dest = `docker://${registry().host}/secure/app:v1`;
    await expect(
      skopeo("copy", "--dest-tls-verify=false", `oci:${source.dir}:v1`, dest),
    ).rejects.toThrow(/unauthorized|authentication required|denied/i);
    await skopeo(
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      "ci:s3cret",
      "--preserve-digests",
      `oci:${source.dir}:v1`,
      dest,
    );
    const raw = await skopeo(
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      "ci:s3cret",
      dest,
    );
    expect(sha256(raw)).toBe(single.digest);
    expect(
      registry()
        .requests()
        .some((r) => r.route === "token" && r.status === 200),
    ).toBe(true);
  });
});
