import { describe, expect, it } from "vitest";
import { client, raw, sha256, sha512, withQuery } from "./support/http.js";
import { STORAGE_KINDS, useRegistry } from "./support/registries.js";

describe.each(STORAGE_KINDS)("blobs (%s storage)", (kind) => {
  const registry = useRegistry(kind);
  const api = () => client(registry().url);

  it("answers the ping with the API version header", async () => {
    for (const path of ["/v2/", "/v2"]) {
      const res = await raw(`${registry().url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers["docker-distribution-api-version"]).toBe("registry/2.0");
      expect(res.json()).toEqual({});
    }
    const head = await raw(`${registry().url}/v2/`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("serves a pushed blob with HEAD and GET", async () => {
    const { digest } = await api().pushBlob("blobs/get", "hello blob");
    const head = await api().call(`/v2/blobs/get/blobs/${digest}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("10");
    expect(head.headers["docker-content-digest"]).toBe(digest);
    expect(head.body.length).toBe(0);
    const get = await api().call(`/v2/blobs/get/blobs/${digest}`);
    expect(get.status).toBe(200);
    expect(get.text).toBe("hello blob");
    expect(get.headers["content-type"]).toBe("application/octet-stream");
    expect(get.headers["docker-content-digest"]).toBe(digest);
    expect(get.headers.etag).toBe(`"${digest}"`);
  });

  it("accepts a percent-encoded digest in the path", async () => {
    const { digest } = await api().pushBlob("blobs/encoded", "encoded");
    const res = await api().call(`/v2/blobs/encoded/blobs/${digest.replace(":", "%3A")}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe("encoded");
  });

  it.each([
    ["bytes=2-5", 206, "llo ", "bytes 2-5/10"],
    ["bytes=5-", 206, " blob", "bytes 5-9/10"],
    ["bytes=-3", 206, "lob", "bytes 7-9/10"],
    ["bytes=4-100", 206, "o blob", "bytes 4-9/10"],
    ["bytes=0-1,3-4", 200, "hello blob", undefined],
  ])("serves Range %s", async (range, status, body, contentRange) => {
    const { digest } = await api().pushBlob("blobs/range", "hello blob");
    const res = await api().call(`/v2/blobs/range/blobs/${digest}`, { headers: { Range: range } });
    expect(res.status).toBe(status);
    expect(res.text).toBe(body);
    expect(res.headers["content-range"]).toBe(contentRange);
    expect(res.headers["content-length"]).toBe(String(res.body.length));
  });

  it.each(["bytes=10-", "bytes=20-25", "bytes=5-2", "items=0-1", "bytes=-0"])(
    "answers 416 RANGE_INVALID for Range %s",
    async (range) => {
      const { digest } = await api().pushBlob("blobs/range416", "hello blob");
      const res = await api().call(`/v2/blobs/range416/blobs/${digest}`, {
        headers: { Range: range },
      });
      expect(res.status).toBe(416);
      expect(res.codes()).toEqual(["RANGE_INVALID"]);
      expect(res.headers["content-range"]).toBe("bytes */10");
    },
  );

  it("keeps blobs per repository: another repository does not see them", async () => {
    const { digest } = await api().pushBlob("blobs/mine", "private bytes");
    const res = await api().call(`/v2/blobs/theirs/blobs/${digest}`);
    expect(res.status).toBe(404);
    expect(res.codes()).toEqual(["BLOB_UNKNOWN"]);
  });

  it("answers BLOB_UNKNOWN for a missing blob and DIGEST_INVALID for a malformed digest", async () => {
    const missing = await api().call(`/v2/blobs/none/blobs/${sha256("nothing")}`);
    expect(missing.status).toBe(404);
    expect(missing.codes()).toEqual(["BLOB_UNKNOWN"]);
    for (const bad of ["sha256:abc", "md5:0123", `sha256:${"A".repeat(64)}`, "nodigest"]) {
      const res = await api().call(`/v2/blobs/none/blobs/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.codes(), bad).toEqual(["DIGEST_INVALID"]);
    }
  });

  it("deletes a blob from one repository only", async () => {
    const content = "shared content";
    const { digest } = await api().pushBlob("blobs/del-a", content);
    await api().pushBlob("blobs/del-b", content);
    const del = await api().call(`/v2/blobs/del-a/blobs/${digest}`, { method: "DELETE" });
    expect(del.status).toBe(202);
    expect((await api().call(`/v2/blobs/del-a/blobs/${digest}`, { method: "HEAD" })).status).toBe(
      404,
    );
    expect((await api().call(`/v2/blobs/del-b/blobs/${digest}`, { method: "HEAD" })).status).toBe(
      200,
    );
    const again = await api().call(`/v2/blobs/del-a/blobs/${digest}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(again.codes()).toEqual(["BLOB_UNKNOWN"]);
  });

  it("stores sha512 blobs under their sha512 digest", async () => {
    const location = await api().startUpload("blobs/sha512");
    const digest = sha512("sixty-four bytes of hashing");
    const put = await api().call(withQuery(location, `digest=${digest}`), {
      method: "PUT",
      body: "sixty-four bytes of hashing",
    });
    expect(put.status).toBe(201);
    expect(put.headers["docker-content-digest"]).toBe(digest);
    const get = await api().call(`/v2/blobs/sha512/blobs/${digest}`);
    expect(get.text).toBe("sixty-four bytes of hashing");
  });

  it("streams a large blob back intact", async () => {
    const content = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31) % 251;
    const { digest } = await api().pushBlob("blobs/large", content);
    const res = await api().call(`/v2/blobs/large/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(sha256(res.body)).toBe(digest);
    const tail = await api().call(`/v2/blobs/large/blobs/${digest}`, {
      headers: { Range: "bytes=3145700-" },
    });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(content.subarray(3145700))).toBe(true);
  });
});
