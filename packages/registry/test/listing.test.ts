import { describe, expect, it } from "vitest";
import { client, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, sha256 } from "./support/http.js";
import { STORAGE_KINDS, useRegistry } from "./support/registries.js";

/** Follows Link headers from `path` to the end, collecting one field of each page. */
async function walk(api: ReturnType<typeof client>, path: string, field: "tags" | "repositories") {
  const pages: string[][] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await api.call(next);
    expect(res.status).toBe(200);
    pages.push(res.json<Record<string, string[]>>()[field] ?? []);
    const link = res.headers.link as string | undefined;
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    if (link) expect(next).toBeDefined();
  }
  return pages;
}

describe.each(STORAGE_KINDS)("tags, catalog and referrers (%s storage)", (kind) => {
  const registry = useRegistry(kind, { limits: { maxPageSize: 50 } });
  const api = () => client(registry().url);

  it("lists tags sorted, with n/last pages and Link headers", async () => {
    const image = await api().pushImage("list/tags", "v10");
    for (const tag of ["b", "A", "v2", "a", "latest", "_x"]) {
      await api().pushManifest("list/tags", tag, image.manifest, OCI_MANIFEST);
    }
    const all = await api().call("/v2/list/tags/tags/list");
    expect(all.json()).toEqual({
      name: "list/tags",
      tags: ["A", "_x", "a", "b", "latest", "v10", "v2"],
    });
    expect(all.headers.link).toBeUndefined();
    const first = await api().call("/v2/list/tags/tags/list?n=3");
    expect(first.json()).toEqual({ name: "list/tags", tags: ["A", "_x", "a"] });
    expect(first.headers.link).toBe('</v2/list/tags/tags/list?last=a&n=3>; rel="next"');
    expect(await walk(api(), "/v2/list/tags/tags/list?n=3", "tags")).toEqual([
      ["A", "_x", "a"],
      ["b", "latest", "v10"],
      ["v2"],
    ]);
    // `last` is exclusive and need not be a tag that exists.
    expect((await api().call("/v2/list/tags/tags/list?last=b")).json()).toEqual({
      name: "list/tags",
      tags: ["latest", "v10", "v2"],
    });
    expect((await api().call("/v2/list/tags/tags/list?last=c&n=1")).json()).toEqual({
      name: "list/tags",
      tags: ["latest"],
    });
    // Past the end: nothing, not everything.
    expect((await api().call("/v2/list/tags/tags/list?last=zzz&n=2")).json()).toEqual({
      name: "list/tags",
      tags: [],
    });
    const none = await api().call("/v2/list/tags/tags/list?n=0");
    expect(none.json()).toEqual({ name: "list/tags", tags: [] });
    expect(none.headers.link).toBeUndefined();
    // An exact last page has no Link.
    expect((await api().call("/v2/list/tags/tags/list?n=7")).headers.link).toBeUndefined();
  });

  it("refuses pages larger than the limit with PAGINATION_NUMBER_INVALID and ignores an unparsable n", async () => {
    await api().pushImage("list/limit", "t");
    const big = await api().call("/v2/list/limit/tags/list?n=51");
    expect(big.status).toBe(400);
    expect(big.codes()).toEqual(["PAGINATION_NUMBER_INVALID"]);
    expect((await api().call("/v2/_catalog?n=51")).codes()).toEqual(["PAGINATION_NUMBER_INVALID"]);
    expect((await api().call("/v2/list/limit/tags/list?n=abc")).json()).toEqual({
      name: "list/limit",
      tags: ["t"],
    });
  });

  it("answers NAME_UNKNOWN for the tags of a repository that does not exist", async () => {
    const res = await api().call("/v2/list/never/tags/list");
    expect(res.status).toBe(404);
    expect(res.codes()).toEqual(["NAME_UNKNOWN"]);
  });

  it("lists repositories sorted and paginated, blob-only repositories included", async () => {
    await api().pushImage("cat/b", "t");
    await api().pushImage("cat/a", "t");
    await api().pushImage("cat/a/nested", "t");
    await api().pushBlob("cat/c-blob-only", "only a blob");
    await api().startUpload("cat/d-upload-only");
    const all = (await api().call("/v2/_catalog?n=50")).json<{ repositories: string[] }>()
      .repositories;
    const ours = all.filter((r) => r.startsWith("cat/"));
    expect(ours).toEqual(["cat/a", "cat/a/nested", "cat/b", "cat/c-blob-only"]);
    expect([...all].sort()).toEqual(all);
    const pages = await walk(api(), "/v2/_catalog?n=2", "repositories");
    expect(pages.flat()).toEqual(all);
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    const after = (await api().call("/v2/_catalog?last=cat/a/nested&n=2")).json<{
      repositories: string[];
    }>();
    expect(after.repositories).toEqual(["cat/b", "cat/c-blob-only"]);
  });

  it("serves referrers as an OCI index, with artifactType filtering", async () => {
    const subject = await api().pushImage("ref/app", "v1");
    const empty = await api().pushBlob("ref/app", "{}");
    const push = async (
      artifactType: string | undefined,
      configType: string,
      annotations?: Record<string, string>,
    ) => {
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        ...(artifactType ? { artifactType } : {}),
        config: { mediaType: configType, ...empty },
        layers: [],
        subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
        ...(annotations ? { annotations } : {}),
      });
      const res = await api().pushManifest("ref/app", sha256(manifest), manifest, OCI_MANIFEST);
      expect(res.status).toBe(201);
      expect(res.headers["oci-subject"]).toBe(subject.digest);
      return { digest: sha256(manifest), size: Buffer.byteLength(manifest) };
    };
    const sig = await push("application/vnd.example.sig", "application/vnd.oci.empty.v1+json", {
      signer: "me",
    });
    const sbom = await push(undefined, "application/vnd.example.sbom");
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
    });
    expect(
      (await api().pushManifest("ref/app", sha256(index), index, OCI_INDEX)).headers["oci-subject"],
    ).toBe(subject.digest);

    const res = await api().call(`/v2/ref/app/referrers/${subject.digest}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe(OCI_INDEX);
    expect(res.headers["oci-filters-applied"]).toBeUndefined();
    const body = res.json<{
      schemaVersion: number;
      mediaType: string;
      manifests: Record<string, unknown>[];
    }>();
    expect(body.schemaVersion).toBe(2);
    expect(body.mediaType).toBe(OCI_INDEX);
    const expected = [
      {
        mediaType: OCI_MANIFEST,
        ...sig,
        artifactType: "application/vnd.example.sig",
        annotations: { signer: "me" },
      },
      { mediaType: OCI_MANIFEST, ...sbom, artifactType: "application/vnd.example.sbom" },
      { mediaType: OCI_INDEX, digest: sha256(index), size: Buffer.byteLength(index) },
    ].sort((a, b) => (a.digest < b.digest ? -1 : 1));
    expect(body.manifests).toEqual(expected);

    const filtered = await api().call(
      `/v2/ref/app/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`,
    );
    expect(filtered.headers["oci-filters-applied"]).toBe("artifactType");
    expect(filtered.json<{ manifests: unknown[] }>().manifests).toEqual([
      { mediaType: OCI_MANIFEST, ...sbom, artifactType: "application/vnd.example.sbom" },
    ]);

    // Deleting a referrer removes it from the list.
    await api().call(`/v2/ref/app/manifests/${sig.digest}`, { method: "DELETE" });
    const after = await api().call(`/v2/ref/app/referrers/${subject.digest}`);
    expect(
      after.json<{ manifests: { digest: string }[] }>().manifests.map((m) => m.digest),
    ).not.toContain(sig.digest);
  });

  it("accepts referrers before their subject and answers an empty index for unknown subjects", async () => {
    const empty = await api().pushBlob("ref/early", "{}");
    const ghost = sha256("subject pushed later");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.early",
      config: { mediaType: "application/vnd.oci.empty.v1+json", ...empty },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: ghost, size: 10 },
    });
    expect((await api().pushManifest("ref/early", "sig", manifest, OCI_MANIFEST)).status).toBe(201);
    expect(
      (await api().call(`/v2/ref/early/referrers/${ghost}`)).json<{ manifests: unknown[] }>()
        .manifests,
    ).toHaveLength(1);
    const nobody = await api().call(`/v2/ref/nowhere/referrers/${sha256("x")}`);
    expect(nobody.status).toBe(200);
    expect(nobody.json()).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    const bad = await api().call("/v2/ref/early/referrers/latest");
    expect(bad.status).toBe(400);
    expect(bad.codes()).toEqual(["DIGEST_INVALID"]);
  });
});

describe("referrers switched off", () => {
  const registry = useRegistry("memory", { referrers: false });

  it("answers 404 so clients fall back to the tag schema, and sends no OCI-Subject", async () => {
    const api = client(registry().url);
    const subject = await api.pushImage("noref/app", "v1");
    const empty = await api.pushBlob("noref/app", "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...empty },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
    });
    const put = await api.pushManifest("noref/app", "sig", manifest, OCI_MANIFEST);
    expect(put.status).toBe(201);
    expect(put.headers["oci-subject"]).toBeUndefined();
    const res = await api.call(`/v2/noref/app/referrers/${subject.digest}`);
    expect(res.status).toBe(404);
  });
});
