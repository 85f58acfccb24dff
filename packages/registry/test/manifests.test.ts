import { describe, expect, it } from "vitest";
import {
  ACCEPT_ALL,
  client,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  sha256,
  sha512,
} from "./support/http.js";
import { STORAGE_KINDS, useRegistry } from "./support/registries.js";

describe.each(STORAGE_KINDS)("manifests (%s storage)", (kind) => {
  const registry = useRegistry(kind, { limits: { manifestBytes: 8 * 1024 } });
  const api = () => client(registry().url);

  it("stores a manifest under its tag and digest, byte for byte", async () => {
    const image = await api().pushImage("man/basic", "v1");
    for (const reference of ["v1", image.digest]) {
      const get = await api().call(`/v2/man/basic/manifests/${reference}`, {
        headers: { Accept: OCI_MANIFEST },
      });
      expect(get.status).toBe(200);
      expect(get.text).toBe(image.manifest);
      expect(get.headers["content-type"]).toBe(OCI_MANIFEST);
      expect(get.headers["docker-content-digest"]).toBe(image.digest);
      expect(get.headers["content-length"]).toBe(String(image.size));
      const head = await api().call(`/v2/man/basic/manifests/${reference}`, {
        method: "HEAD",
        headers: { Accept: OCI_MANIFEST },
      });
      expect(head.status).toBe(200);
      expect(head.headers["docker-content-digest"]).toBe(image.digest);
      expect(head.headers["content-length"]).toBe(String(image.size));
      expect(head.body.length).toBe(0);
    }
  });

  it("answers the push with 201, Location and Docker-Content-Digest", async () => {
    const config = await api().pushBlob("man/push", "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [],
    });
    const res = await api().pushManifest("man/push", "latest", manifest, OCI_MANIFEST);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v2/man/push/manifests/${sha256(manifest)}`);
    expect(res.headers["docker-content-digest"]).toBe(sha256(manifest));
  });

  it("keeps the Content-Type the manifest was pushed with, parameters dropped", async () => {
    const config = await api().pushBlob("man/ctype", "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [],
    });
    const res = await api().pushManifest(
      "man/ctype",
      "t",
      manifest,
      `${OCI_MANIFEST}; charset=utf-8`,
    );
    expect(res.status).toBe(201);
    const get = await api().call("/v2/man/ctype/manifests/t", {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(get.headers["content-type"]).toBe(OCI_MANIFEST);
  });

  it("negotiates on Accept like distribution does", async () => {
    const image = await api().pushImage("man/accept", "oci");
    const docker = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: "application/vnd.docker.container.image.v1+json", ...image.config },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...image.layer }],
    });
    expect((await api().pushManifest("man/accept", "docker", docker, DOCKER_MANIFEST)).status).toBe(
      201,
    );
    const cases: [string, string | undefined, number][] = [
      ["oci", undefined, 404],
      ["oci", "*/*", 404],
      ["oci", DOCKER_MANIFEST, 404],
      ["oci", OCI_MANIFEST, 200],
      ["oci", `${DOCKER_MANIFEST}, ${OCI_MANIFEST};q=0.5`, 200],
      [image.digest, undefined, 404],
      ["docker", undefined, 404],
      ["docker", OCI_MANIFEST, 404],
      ["docker", DOCKER_MANIFEST, 200],
      [sha256(docker), undefined, 200],
    ];
    for (const [reference, accept, status] of cases) {
      const res = await api().call(`/v2/man/accept/manifests/${reference}`, {
        headers: accept ? { Accept: accept } : {},
      });
      expect(res.status, `${reference} with Accept ${accept}`).toBe(status);
      if (status === 404) expect(res.codes()).toEqual(["MANIFEST_UNKNOWN"]);
    }
  });

  it("stores an index whose children are present, and refuses one whose are not", async () => {
    const a = await api().pushImage("man/index", "a", "a");
    const b = await api().pushImage("man/index", "b", "b");
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: OCI_MANIFEST,
          digest: a.digest,
          size: a.size,
          platform: { os: "linux", architecture: "amd64" },
        },
        {
          mediaType: OCI_MANIFEST,
          digest: b.digest,
          size: b.size,
          platform: { os: "linux", architecture: "arm64" },
        },
      ],
    });
    expect((await api().pushManifest("man/index", "multi", index, OCI_INDEX)).status).toBe(201);
    const get = await api().call("/v2/man/index/manifests/multi", {
      headers: { Accept: OCI_INDEX },
    });
    expect(get.text).toBe(index);
    const missing = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: a.digest, size: a.size },
        { mediaType: OCI_MANIFEST, digest: sha256("absent"), size: 6 },
        { mediaType: OCI_MANIFEST, digest: sha256("also absent"), size: 11 },
      ],
    });
    const res = await api().pushManifest("man/index", "broken", missing, OCI_INDEX);
    expect(res.status).toBe(400);
    expect(res.codes()).toEqual(["MANIFEST_BLOB_UNKNOWN", "MANIFEST_BLOB_UNKNOWN"]);
    const list = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [{ mediaType: OCI_MANIFEST, digest: a.digest, size: a.size }],
    });
    expect((await api().pushManifest("man/index", "list", list, DOCKER_LIST)).status).toBe(201);
  });

  it("refuses an image whose config or layers are missing with MANIFEST_BLOB_UNKNOWN", async () => {
    const config = await api().pushBlob("man/refs", "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [{ mediaType: OCI_LAYER, digest: sha256("never pushed"), size: 12 }],
    });
    const res = await api().pushManifest("man/refs", "x", manifest, OCI_MANIFEST);
    expect(res.status).toBe(400);
    expect(res.codes()).toEqual(["MANIFEST_BLOB_UNKNOWN"]);
    expect(res.json<{ errors: { detail: unknown }[] }>().errors[0]?.detail).toBe(
      sha256("never pushed"),
    );
    // A blob pushed to another repository does not count.
    const elsewhere = await api().pushBlob("man/other", "layer elsewhere");
    const cross = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [{ mediaType: OCI_LAYER, ...elsewhere }],
    });
    expect((await api().pushManifest("man/refs", "y", cross, OCI_MANIFEST)).codes()).toEqual([
      "MANIFEST_BLOB_UNKNOWN",
    ]);
    // Foreign layers (with urls) need not be pushed.
    const foreign = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [
        {
          mediaType: OCI_LAYER,
          digest: sha256("foreign"),
          size: 7,
          urls: ["https://example.com/l"],
        },
      ],
    });
    expect((await api().pushManifest("man/refs", "z", foreign, OCI_MANIFEST)).status).toBe(201);
  });

  it("refuses a descriptor whose size disagrees with the stored blob", async () => {
    const config = await api().pushBlob("man/size", "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: 3 },
      layers: [],
    });
    const res = await api().pushManifest("man/size", "x", manifest, OCI_MANIFEST);
    expect(res.status).toBe(400);
    expect(res.codes()).toEqual(["MANIFEST_INVALID"]);
  });

  it.each([
    ["not JSON", "{oops", OCI_MANIFEST],
    ["a JSON array", "[]", OCI_MANIFEST],
    ["schemaVersion 1", JSON.stringify({ schemaVersion: 1, config: {}, layers: [] }), OCI_MANIFEST],
    [
      "a config of the wrong type",
      JSON.stringify({ schemaVersion: 2, config: 5, layers: [] }),
      OCI_MANIFEST,
    ],
    [
      "a layer without digest",
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: OCI_CONFIG, digest: sha256("{}"), size: 2 },
        layers: [{ mediaType: OCI_LAYER, size: 1 }],
      }),
      OCI_MANIFEST,
    ],
    ["an index without manifests", JSON.stringify({ schemaVersion: 2 }), OCI_INDEX],
    [
      "a mediaType that contradicts Content-Type",
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }),
      OCI_MANIFEST,
    ],
    [
      "a schema 1 manifest",
      JSON.stringify({ schemaVersion: 1, name: "x", tag: "y", fsLayers: [] }),
      "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ],
    [
      "an unknown manifest type",
      JSON.stringify({ schemaVersion: 2 }),
      "application/vnd.example.thing+json",
    ],
    ["no media type anywhere", JSON.stringify({ schemaVersion: 2 }), ""],
  ])("refuses %s with MANIFEST_INVALID", async (_, body, contentType) => {
    await api().pushBlob("man/invalid", "{}");
    const res = await api().call("/v2/man/invalid/manifests/bad", {
      method: "PUT",
      body,
      headers: contentType ? { "Content-Type": contentType } : {},
    });
    expect(res.status).toBe(400);
    expect(res.codes()).toEqual(["MANIFEST_INVALID"]);
    expect(
      (await api().call("/v2/man/invalid/manifests/bad", { headers: { Accept: ACCEPT_ALL } }))
        .status,
    ).toBe(404);
  });

  it("sniffs the type of a body without mediaType when Content-Type says nothing", async () => {
    const image = await api().pushImage("man/sniff", "v1");
    const index = JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_MANIFEST, digest: image.digest, size: image.size }],
    });
    expect(
      (await api().call("/v2/man/sniff/manifests/idx", { method: "PUT", body: index })).status,
    ).toBe(201);
    const get = await api().call("/v2/man/sniff/manifests/idx", { headers: { Accept: OCI_INDEX } });
    expect(get.headers["content-type"]).toBe(OCI_INDEX);
  });

  it("takes the media type from the body when Content-Type says nothing", async () => {
    const config = await api().pushBlob("man/nocontent", "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [],
    });
    const res = await api().call("/v2/man/nocontent/manifests/t", {
      method: "PUT",
      body: manifest,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status).toBe(201);
    const get = await api().call("/v2/man/nocontent/manifests/t", {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(get.headers["content-type"]).toBe(OCI_MANIFEST);
  });

  it("checks a push by digest against the body (DIGEST_INVALID), sha256 or sha512", async () => {
    const config = await api().pushBlob("man/bydigest", "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [],
    });
    const wrong = await api().pushManifest(
      "man/bydigest",
      sha256("something else"),
      manifest,
      OCI_MANIFEST,
    );
    expect(wrong.status).toBe(400);
    expect(wrong.codes()).toEqual(["DIGEST_INVALID"]);
    expect(
      (await api().pushManifest("man/bydigest", sha256(manifest), manifest, OCI_MANIFEST)).status,
    ).toBe(201);
    const by512 = await api().pushManifest(
      "man/bydigest",
      sha512(manifest),
      manifest,
      OCI_MANIFEST,
    );
    expect(by512.status).toBe(201);
    expect(by512.headers["docker-content-digest"]).toBe(sha512(manifest));
    const get = await api().call(`/v2/man/bydigest/manifests/${sha512(manifest)}`, {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(get.text).toBe(manifest);
    expect(
      (await api().pushManifest("man/bydigest", "sha256:short", manifest, OCI_MANIFEST)).codes(),
    ).toEqual(["DIGEST_INVALID"]);
  });

  it("adds the tags of ?tag= to a push by digest and lists them in OCI-Tag", async () => {
    const image = await api().pushImage("man/tagparams", "base");
    const res = await api().call(`/v2/man/tagparams/manifests/${image.digest}?tag=1.0&tag=latest`, {
      method: "PUT",
      body: image.manifest,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    expect(res.status).toBe(201);
    expect(res.headers["oci-tag"]).toBe("1.0, latest");
    expect((await api().call("/v2/man/tagparams/tags/list")).json()).toEqual({
      name: "man/tagparams",
      tags: ["1.0", "base", "latest"],
    });
    const bad = await api().call(`/v2/man/tagparams/manifests/${image.digest}?tag=-bad`, {
      method: "PUT",
      body: image.manifest,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    expect(bad.codes()).toEqual(["MANIFEST_INVALID"]);
  });

  it("refuses manifests over the size limit with 413 SIZE_INVALID", async () => {
    const padding = "x".repeat(9 * 1024);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {},
      layers: [],
      annotations: { padding },
    });
    const res = await api().pushManifest("man/big", "t", manifest, OCI_MANIFEST);
    expect(res.status).toBe(413);
    expect(res.codes()).toEqual(["SIZE_INVALID"]);
    async function* chunked() {
      yield Buffer.from(manifest);
    }
    const streamed = await api().call("/v2/man/big/manifests/t", {
      method: "PUT",
      body: chunked(),
      chunked: true,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    expect(streamed.status).toBe(413);
  });

  it("answers MANIFEST_UNKNOWN for missing manifests, tags and invalid references", async () => {
    for (const reference of ["latest", sha256("nope"), "bad$tag"]) {
      const res = await api().call(`/v2/man/missing/manifests/${reference}`, {
        headers: { Accept: ACCEPT_ALL },
      });
      expect(res.status, reference).toBe(404);
      expect(res.codes(), reference).toEqual(["MANIFEST_UNKNOWN"]);
    }
    const bad = await api().call("/v2/man/missing/manifests/sha256:zzz", {
      headers: { Accept: ACCEPT_ALL },
    });
    expect(bad.status).toBe(400);
    expect(bad.codes()).toEqual(["DIGEST_INVALID"]);
    const badPut = await api().pushManifest("man/missing", "bad$tag", "{}", OCI_MANIFEST);
    expect(badPut.codes()).toEqual(["MANIFEST_INVALID"]);
  });

  it("deletes a tag alone, or a manifest with every tag pointing at it", async () => {
    const image = await api().pushImage("man/delete", "one");
    await api().pushManifest("man/delete", "two", image.manifest, OCI_MANIFEST);
    await api().pushManifest("man/delete", "three", image.manifest, OCI_MANIFEST);
    const untag = await api().call("/v2/man/delete/manifests/one", { method: "DELETE" });
    expect(untag.status).toBe(202);
    const accept = { Accept: OCI_MANIFEST };
    expect((await api().call("/v2/man/delete/manifests/one", { headers: accept })).status).toBe(
      404,
    );
    expect((await api().call("/v2/man/delete/manifests/two", { headers: accept })).status).toBe(
      200,
    );
    const del = await api().call(`/v2/man/delete/manifests/${image.digest}`, { method: "DELETE" });
    expect(del.status).toBe(202);
    for (const reference of ["two", "three", image.digest]) {
      const res = await api().call(`/v2/man/delete/manifests/${reference}`, { headers: accept });
      expect(res.status, reference).toBe(404);
    }
    expect((await api().call("/v2/man/delete/tags/list")).json()).toEqual({
      name: "man/delete",
      tags: [],
    });
    const again = await api().call(`/v2/man/delete/manifests/${image.digest}`, {
      method: "DELETE",
    });
    expect(again.status).toBe(404);
    expect(again.codes()).toEqual(["MANIFEST_UNKNOWN"]);
    expect(
      (await api().call("/v2/man/delete/manifests/nosuchtag", { method: "DELETE" })).codes(),
    ).toEqual(["MANIFEST_UNKNOWN"]);
  });
});

describe("manifest validation switched off", () => {
  const registry = useRegistry("memory", {
    validation: { blobReferences: false, manifestReferences: false },
  });

  it("accepts manifests and indexes whose references are missing", async () => {
    const api = client(registry().url);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256("nothing"), size: 7 },
      layers: [{ mediaType: OCI_LAYER, digest: sha256("none"), size: 4 }],
    });
    expect((await api.pushManifest("lax/repo", "image", manifest, OCI_MANIFEST)).status).toBe(201);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: sha256("gone"), size: 4 }],
    });
    expect((await api.pushManifest("lax/repo", "index", index, OCI_INDEX)).status).toBe(201);
    // Digests and JSON are still checked.
    expect(
      (await api.pushManifest("lax/repo", sha256("x"), manifest, OCI_MANIFEST)).codes(),
    ).toEqual(["DIGEST_INVALID"]);
    expect((await api.pushManifest("lax/repo", "t", "{", OCI_MANIFEST)).codes()).toEqual([
      "MANIFEST_INVALID",
    ]);
  });
});

describe("deletes switched off", () => {
  const registry = useRegistry("memory", { deletes: false });

  it("answers 405 UNSUPPORTED to manifest, tag and blob deletes", async () => {
    const api = client(registry().url);
    const image = await api.pushImage("keep/all", "v1");
    for (const path of [
      `manifests/v1`,
      `manifests/${image.digest}`,
      `blobs/${image.layer.digest}`,
    ]) {
      const res = await api.call(`/v2/keep/all/${path}`, { method: "DELETE" });
      expect(res.status, path).toBe(405);
      expect(res.codes(), path).toEqual(["UNSUPPORTED"]);
    }
    expect(
      (await api.call("/v2/keep/all/manifests/v1", { headers: { Accept: OCI_MANIFEST } })).status,
    ).toBe(200);
  });
});
