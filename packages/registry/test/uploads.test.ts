import { describe, expect, it } from "vitest";
import { client, sha256, withQuery } from "./support/http.js";
import { STORAGE_KINDS, useRegistry } from "./support/registries.js";

describe.each(STORAGE_KINDS)("blob uploads (%s storage)", (kind) => {
  const registry = useRegistry(kind, { limits: { blobBytes: 64 * 1024 } });
  const api = () => client(registry().url);

  it("starts a session with 202, Location, Range and Docker-Upload-UUID", async () => {
    const res = await api().call("/v2/up/start/blobs/uploads/", { method: "POST" });
    expect(res.status).toBe(202);
    const uuid = String(res.headers["docker-upload-uuid"]);
    expect(res.headers.location).toBe(`/v2/up/start/blobs/uploads/${uuid}`);
    expect(res.headers.range).toBe("0-0");
    // Without the trailing slash too.
    expect((await api().call("/v2/up/start/blobs/uploads", { method: "POST" })).status).toBe(202);
  });

  it("uploads monolithically with a single POST ?digest=", async () => {
    const digest = sha256("one shot");
    const res = await api().call(`/v2/up/mono/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      body: "one shot",
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v2/up/mono/blobs/${digest}`);
    expect(res.headers["docker-content-digest"]).toBe(digest);
    expect((await api().call(`/v2/up/mono/blobs/${digest}`)).text).toBe("one shot");
  });

  it("refuses a single POST whose bytes do not match, leaving nothing behind", async () => {
    const digest = sha256("expected");
    const res = await api().call(`/v2/up/mono-bad/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      body: "something else",
    });
    expect(res.status).toBe(400);
    expect(res.codes()).toEqual(["DIGEST_INVALID"]);
    expect((await api().call(`/v2/up/mono-bad/blobs/${digest}`, { method: "HEAD" })).status).toBe(
      404,
    );
    expect(await registry().storage.statBlob(sha256("something else"))).toBeUndefined();
  });

  it("uploads in ordered chunks with Content-Range and reports progress", async () => {
    let location = await api().startUpload("up/chunks");
    const parts = ["first-", "second-", "third"];
    let offset = 0;
    for (const part of parts) {
      const res = await api().call(location, {
        method: "PATCH",
        body: part,
        headers: {
          "Content-Range": `${offset}-${offset + part.length - 1}`,
          "Content-Type": "application/octet-stream",
        },
      });
      expect(res.status).toBe(202);
      offset += part.length;
      expect(res.headers.range).toBe(`0-${offset - 1}`);
      location = api().url(String(res.headers.location));
    }
    const status = await api().call(location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe(`0-${offset - 1}`);
    expect(status.headers["docker-upload-uuid"]).toBeTruthy();
    expect(status.headers.location).toBeTruthy();
    const digest = sha256(parts.join(""));
    const put = await api().call(withQuery(location, `digest=${digest}`), { method: "PUT" });
    expect(put.status).toBe(201);
    expect((await api().call(`/v2/up/chunks/blobs/${digest}`)).text).toBe(parts.join(""));
    // The session is gone once finished.
    expect((await api().call(location)).codes()).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
  });

  it("answers 416 RANGE_INVALID to an out-of-order chunk and keeps the session usable", async () => {
    const location = await api().startUpload("up/order");
    await api().call(location, {
      method: "PATCH",
      body: "abc",
      headers: { "Content-Range": "0-2" },
    });
    const skip = await api().call(location, {
      method: "PATCH",
      body: "xyz",
      headers: { "Content-Range": "5-7" },
    });
    expect(skip.status).toBe(416);
    expect(skip.codes()).toEqual(["RANGE_INVALID"]);
    expect(skip.headers.range).toBe("0-2");
    const overlap = await api().call(location, {
      method: "PATCH",
      body: "xyz",
      headers: { "Content-Range": "1-3" },
    });
    expect(overlap.status).toBe(416);
    const next = await api().call(location, {
      method: "PATCH",
      body: "def",
      headers: { "Content-Range": "3-5" },
    });
    expect(next.status).toBe(202);
    expect(next.headers.range).toBe("0-5");
    const put = await api().call(withQuery(location, `digest=${sha256("abcdef")}`), {
      method: "PUT",
    });
    expect(put.status).toBe(201);
  });

  it("answers 416 when the closing PUT's chunk is out of order", async () => {
    const location = await api().startUpload("up/put-order");
    await api().call(location, {
      method: "PATCH",
      body: "abc",
      headers: { "Content-Range": "0-2" },
    });
    const put = await api().call(withQuery(location, `digest=${sha256("abcdef")}`), {
      method: "PUT",
      body: "def",
      headers: { "Content-Range": "4-6" },
    });
    expect(put.status).toBe(416);
    expect(put.codes()).toEqual(["RANGE_INVALID"]);
  });

  it("rejects a malformed Content-Range with BLOB_UPLOAD_INVALID and a lying length with SIZE_INVALID", async () => {
    const location = await api().startUpload("up/bad-range");
    const malformed = await api().call(location, {
      method: "PATCH",
      body: "abc",
      headers: { "Content-Range": "zero-two" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.codes()).toEqual(["BLOB_UPLOAD_INVALID"]);
    const lying = await api().call(location, {
      method: "PATCH",
      body: "abc",
      headers: { "Content-Range": "0-9" },
    });
    expect(lying.status).toBe(400);
    expect(lying.codes()).toEqual(["SIZE_INVALID"]);
    // Neither request changed the session.
    expect((await api().call(location)).headers.range).toBe("0-0");
  });

  it("appends streamed PATCHes without Content-Range, chunked or not", async () => {
    const location = await api().startUpload("up/stream");
    async function* pieces() {
      yield Buffer.from("streamed ");
      yield Buffer.from("in pieces ");
    }
    const first = await api().call(location, { method: "PATCH", body: pieces(), chunked: true });
    expect(first.status).toBe(202);
    expect(first.headers.range).toBe("0-18");
    const second = await api().call(location, { method: "PATCH", body: "and more" });
    expect(second.headers.range).toBe("0-26");
    const digest = sha256("streamed in pieces and more");
    expect(
      (await api().call(withQuery(location, `digest=${digest}`), { method: "PUT" })).status,
    ).toBe(201);
  });

  it("takes the last chunk in the closing PUT", async () => {
    const location = await api().startUpload("up/final");
    await api().call(location, {
      method: "PATCH",
      body: "head-",
      headers: { "Content-Range": "0-4" },
    });
    const digest = sha256("head-tail");
    const put = await api().call(withQuery(location, `digest=${digest}`), {
      method: "PUT",
      body: "tail",
      headers: { "Content-Range": "5-8" },
    });
    expect(put.status).toBe(201);
    expect(put.headers["docker-content-digest"]).toBe(digest);
  });

  it("keeps the session after a PUT with the wrong digest, so the right one can follow", async () => {
    const location = await api().startUpload("up/retry");
    await api().call(location, { method: "PATCH", body: "content" });
    const wrong = await api().call(withQuery(location, `digest=${sha256("other")}`), {
      method: "PUT",
      body: "!",
    });
    expect(wrong.status).toBe(400);
    expect(wrong.codes()).toEqual(["DIGEST_INVALID"]);
    // The failed PUT's chunk was dropped: the session holds "content" only.
    expect((await api().call(location)).headers.range).toBe("0-6");
    expect(
      (await api().call(`/v2/up/retry/blobs/${sha256("content!")}`, { method: "HEAD" })).status,
    ).toBe(404);
    const right = await api().call(withQuery(location, `digest=${sha256("content")}`), {
      method: "PUT",
    });
    expect(right.status).toBe(201);
  });

  it("requires a valid digest on PUT", async () => {
    const location = await api().startUpload("up/digest");
    const missing = await api().call(location, { method: "PUT" });
    expect(missing.status).toBe(400);
    expect(missing.codes()).toEqual(["DIGEST_INVALID"]);
    const malformed = await api().call(withQuery(location, "digest=sha256:nothex"), {
      method: "PUT",
    });
    expect(malformed.status).toBe(400);
    expect(malformed.codes()).toEqual(["DIGEST_INVALID"]);
    const unsupported = await api().call(withQuery(location, `digest=sha384:${"a".repeat(96)}`), {
      method: "PUT",
    });
    expect(unsupported.codes()).toEqual(["DIGEST_INVALID"]);
  });

  it("cancels a session with DELETE", async () => {
    const location = await api().startUpload("up/cancel");
    await api().call(location, { method: "PATCH", body: "doomed" });
    const del = await api().call(location, { method: "DELETE" });
    expect(del.status).toBe(204);
    for (const method of ["GET", "PATCH", "PUT", "DELETE"]) {
      const res = await api().call(withQuery(location, `digest=${sha256("doomed")}`), { method });
      expect(res.status, method).toBe(404);
      expect(res.codes(), method).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
    }
  });

  it("does not let a session be used through another repository or a made-up id", async () => {
    const location = await api().startUpload("up/owner");
    const id = location.split("/").at(-1);
    const elsewhere = await api().call(`/v2/up/intruder/blobs/uploads/${id}`);
    expect(elsewhere.codes()).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
    const invented = await api().call("/v2/up/owner/blobs/uploads/..%2F..%2Fetc");
    expect(invented.status).toBe(404);
    expect(invented.codes()).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
  });

  it("mounts a blob from another repository with 201", async () => {
    const { digest } = await api().pushBlob("up/source", "mount me");
    const res = await api().call(`/v2/up/target/blobs/uploads/?mount=${digest}&from=up/source`, {
      method: "POST",
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v2/up/target/blobs/${digest}`);
    expect(res.headers["docker-content-digest"]).toBe(digest);
    expect((await api().call(`/v2/up/target/blobs/${digest}`)).text).toBe("mount me");
    const mounts = registry()
      .requests()
      .filter((r) => r.method === "POST" && r.status === 201 && r.url.includes("mount="));
    expect(mounts.map((r) => r.repository)).toContain("up/target");
  });

  it("answers 202 and a fresh session when the blob cannot be mounted", async () => {
    const { digest } = await api().pushBlob("up/has-it", "not everywhere");
    for (const query of [`mount=${digest}&from=up/lacks-it`, `mount=${digest}`]) {
      const res = await api().call(`/v2/up/mount-target/blobs/uploads/?${query}`, {
        method: "POST",
      });
      expect(res.status, query).toBe(202);
      expect(res.headers["docker-upload-uuid"]).toBeTruthy();
      expect(res.headers.range).toBe("0-0");
    }
    const bad = await api().call(
      `/v2/up/mount-target/blobs/uploads/?mount=sha256:zz&from=up/has-it`,
      {
        method: "POST",
      },
    );
    expect(bad.codes()).toEqual(["DIGEST_INVALID"]);
    const badName = await api().call(
      `/v2/up/mount-target/blobs/uploads/?mount=${digest}&from=Bad/Name`,
      {
        method: "POST",
      },
    );
    expect(badName.codes()).toEqual(["NAME_INVALID"]);
  });

  it("refuses blobs over the size limit with 413 SIZE_INVALID", async () => {
    const big = Buffer.alloc(64 * 1024 + 1, 7);
    const mono = await api().call(`/v2/up/big/blobs/uploads/?digest=${sha256(big)}`, {
      method: "POST",
      body: big,
    });
    expect(mono.status).toBe(413);
    expect(mono.codes()).toEqual(["SIZE_INVALID"]);
    const location = await api().startUpload("up/big");
    async function* stream() {
      for (let i = 0; i < 5; i++) yield Buffer.alloc(16 * 1024, i);
    }
    const streamed = await api().call(location, { method: "PATCH", body: stream(), chunked: true });
    expect(streamed.status).toBe(413);
    expect((await api().call(location)).headers.range).toBe("0-0");
  });

  it("supports digest-algorithm=sha512 sessions", async () => {
    const res = await api().call("/v2/up/algo/blobs/uploads/?digest-algorithm=sha512", {
      method: "POST",
    });
    expect(res.status).toBe(202);
    const bad = await api().call("/v2/up/algo/blobs/uploads/?digest-algorithm=md5", {
      method: "POST",
    });
    expect(bad.codes()).toEqual(["DIGEST_INVALID"]);
  });
});
