import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { fileStorage, RegistryError, type RegistryStorage, startRegistry } from "../src/index.js";
import { client, OCI_MANIFEST, sha256, withQuery } from "./support/http.js";
import { makeStorage, STORAGE_KINDS } from "./support/registries.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "hoist-registry-storage-"));
  dirs.push(dir);
  return dir;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

async function* bytes(...parts: string[]) {
  for (const part of parts) yield Buffer.from(part);
}

describe.each(STORAGE_KINDS)("the storage contract (%s)", (kind) => {
  const storage = async (): Promise<RegistryStorage> => {
    const made = await makeStorage(kind);
    if (made.dir) dirs.push(made.dir);
    return made.storage;
  };

  it("turns a verified upload into a blob and keeps a mismatched one as an upload", async () => {
    const s = await storage();
    const upload = await s.createUpload("repo");
    expect(upload.size).toBe(0);
    expect(await s.writeUpload(upload.id, 0, bytes("hello ", "world"))).toBe(11);
    expect((await s.getUpload(upload.id))?.size).toBe(11);
    await expect(s.commitUpload(upload.id, sha256("other"))).rejects.toMatchObject({
      code: "HOIST_REGISTRY_DIGEST_MISMATCH",
    });
    expect(await s.statBlob(sha256("other"))).toBeUndefined();
    expect(await s.statBlob(sha256("hello world"))).toBeUndefined();
    expect((await s.getUpload(upload.id))?.size).toBe(11);
    expect(await s.commitUpload(upload.id, sha256("hello world"))).toEqual({
      digest: sha256("hello world"),
      size: 11,
    });
    expect(await s.getUpload(upload.id)).toBeUndefined();
    expect(await text(await s.readBlob(sha256("hello world"), { start: 6, end: 10 }))).toBe(
      "world",
    );
  });

  it("truncates and rewrites an upload from an offset", async () => {
    const s = await storage();
    const upload = await s.createUpload("repo");
    await s.writeUpload(upload.id, 0, bytes("abcdef"));
    await s.truncateUpload(upload.id, 3);
    expect(await text(await s.readUpload(upload.id))).toBe("abc");
    expect(await s.writeUpload(upload.id, 2, bytes("XYZ"))).toBe(5);
    expect(await text(await s.readUpload(upload.id))).toBe("abXYZ");
    await expect(s.truncateUpload(upload.id, 99)).rejects.toMatchObject({
      code: "HOIST_REGISTRY_INVALID_ARGUMENT",
    });
  });

  it("keeps the bytes already written when the source fails midway", async () => {
    const s = await storage();
    const upload = await s.createUpload("repo");
    async function* failing() {
      yield Buffer.from("kept");
      throw new Error("connection lost");
    }
    await expect(s.writeUpload(upload.id, 0, failing())).rejects.toThrow("connection lost");
    expect((await s.getUpload(upload.id))?.size).toBe(4);
  });

  it("fails clearly for unknown uploads and blobs", async () => {
    const s = await storage();
    const id = "00000000-0000-4000-8000-000000000000";
    expect(await s.getUpload(id)).toBeUndefined();
    await expect(s.writeUpload(id, 0, bytes("x"))).rejects.toMatchObject({
      code: "HOIST_REGISTRY_UPLOAD_UNKNOWN",
    });
    await expect(s.commitUpload(id, sha256("x"))).rejects.toMatchObject({
      code: "HOIST_REGISTRY_UPLOAD_UNKNOWN",
    });
    expect(await s.deleteUpload(id)).toBe(false);
    const missing = s.readBlob(sha256("missing"));
    await expect(missing).rejects.toSatisfy(
      (e: unknown) => RegistryError.is(e) && e.code === "HOIST_REGISTRY_BLOB_UNKNOWN",
    );
    await expect(missing).rejects.toThrow(/push it first/);
  });

  it("links blobs per repository", async () => {
    const s = await storage();
    const digest = sha256("linked");
    expect(await s.isBlobLinked("a", digest)).toBe(false);
    await s.linkBlob("a", digest);
    expect(await s.isBlobLinked("a", digest)).toBe(true);
    expect(await s.isBlobLinked("b", digest)).toBe(false);
    expect(await s.repositoryExists("a")).toBe(true);
    expect(await s.unlinkBlob("a", digest)).toBe(true);
    expect(await s.unlinkBlob("a", digest)).toBe(false);
    expect(await s.repositoryExists("a")).toBe(false);
  });

  it("stores manifests, tags and referrers, and deletes them together", async () => {
    const s = await storage();
    const body = Buffer.from('{"schemaVersion":2}');
    const digest = sha256(body);
    const subject = sha256("subject");
    const descriptor = { mediaType: OCI_MANIFEST, digest, size: body.length, artifactType: "x/y" };
    await s.putManifest("app/web", {
      digest,
      mediaType: OCI_MANIFEST,
      bytes: body,
      referrer: { subject, descriptor },
    });
    await s.setTag("app/web", "Latest", digest);
    await s.setTag("app/web", "latest", digest);
    expect(await s.getTag("app/web", "Latest")).toBe(digest);
    expect((await s.listTags("app/web")).sort()).toEqual(["Latest", "latest"]);
    expect(await s.getManifest("app/web", digest)).toMatchObject({
      digest,
      mediaType: OCI_MANIFEST,
      size: body.length,
    });
    expect(Buffer.from((await s.getManifest("app/web", digest))?.bytes ?? []).equals(body)).toBe(
      true,
    );
    expect(await s.listReferrers("app/web", subject)).toEqual([descriptor]);
    expect(await s.listRepositories()).toEqual(["app/web"]);
    expect(await s.deleteManifest("app/web", digest)).toBe(true);
    expect(await s.listTags("app/web")).toEqual([]);
    expect(await s.listReferrers("app/web", subject)).toEqual([]);
    expect(await s.getManifest("app/web", digest)).toBeUndefined();
    expect(await s.deleteManifest("app/web", digest)).toBe(false);
    expect(await s.deleteTag("app/web", "latest")).toBe(false);
  });
});

describe("file storage crash safety", () => {
  it("leaves nothing visible after a PUT of the wrong bytes", async () => {
    const dir = await tempDir();
    const registry = await startRegistry({ storage: fileStorage(dir) });
    try {
      const api = client(registry.url);
      const location = await api.startUpload("crash/wrong");
      const res = await api.call(withQuery(location, `digest=${sha256("the real thing")}`), {
        method: "PUT",
        body: "a forgery",
      });
      expect(res.codes()).toEqual(["DIGEST_INVALID"]);
      const mono = await api.call(
        `/v2/crash/wrong/blobs/uploads/?digest=${sha256("the real thing")}`,
        {
          method: "POST",
          body: "another forgery",
        },
      );
      expect(mono.codes()).toEqual(["DIGEST_INVALID"]);
      expect(await readdir(join(dir, "blobs"))).toEqual([]);
      expect(await readdir(join(dir, "tmp"))).toEqual([]);
      for (const content of ["the real thing", "a forgery", "another forgery"]) {
        expect(await registry.storage.statBlob(sha256(content))).toBeUndefined();
        expect(
          (await api.call(`/v2/crash/wrong/blobs/${sha256(content)}`, { method: "HEAD" })).status,
        ).toBe(404);
      }
    } finally {
      await registry.close();
    }
  });

  it("ignores and removes half-written temporary files after a crash", async () => {
    const dir = await tempDir();
    const first = fileStorage(dir);
    const upload = await first.createUpload("crash/temp");
    await first.writeUpload(upload.id, 0, bytes("complete content"));
    // What a crash in the middle of a commit or a tag write leaves: partial files in tmp/.
    await writeFile(join(dir, "tmp", "0f4c-partial-blob"), "complete cont");
    await writeFile(join(dir, "tmp", "9a1e-partial-tag"), "sha256:12");
    const cleaned: string[] = [];
    const second = fileStorage(dir, { onCleanup: (paths) => cleaned.push(...paths) });
    expect(await second.statBlob(sha256("complete content"))).toBeUndefined();
    expect(await second.statBlob(sha256("complete cont"))).toBeUndefined();
    expect(cleaned.sort()).toEqual([
      join(dir, "tmp", "0f4c-partial-blob"),
      join(dir, "tmp", "9a1e-partial-tag"),
    ]);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    // The upload itself survived the restart and can still be finished (hashed again from disk).
    expect((await second.getUpload(upload.id))?.size).toBe(16);
    await second.commitUpload(upload.id, sha256("complete content"));
    expect(await second.statBlob(sha256("complete content"))).toEqual({
      digest: sha256("complete content"),
      size: 16,
    });
  });

  it("ignores an upload directory without its metadata (a crash while creating it)", async () => {
    const dir = await tempDir();
    const storage = fileStorage(dir);
    await storage.listRepositories();
    const id = "11111111-1111-4111-8111-111111111111";
    await mkdir(join(dir, "uploads", id));
    await writeFile(join(dir, "uploads", id, "data"), "orphan");
    expect(await storage.getUpload(id)).toBeUndefined();
  });

  it("resumes an interrupted upload over HTTP after a restart, and keeps content across restarts", async () => {
    const dir = await tempDir();
    let registry = await startRegistry({ storage: fileStorage(dir) });
    let api = client(registry.url);
    const location = new URL(await api.startUpload("crash/resume")).pathname;
    await api.call(location, {
      method: "PATCH",
      body: "first half, ",
      headers: { "Content-Range": "0-11" },
    });
    const image = await api.pushImage("crash/resume", "v1");
    await registry.close();

    registry = await startRegistry({ storage: fileStorage(dir) });
    api = client(registry.url);
    try {
      const status = await api.call(location);
      expect(status.status).toBe(204);
      expect(status.headers.range).toBe("0-11");
      await api.call(location, {
        method: "PATCH",
        body: "second half",
        headers: { "Content-Range": "12-22" },
      });
      const digest = sha256("first half, second half");
      expect(
        (await api.call(withQuery(location, `digest=${digest}`), { method: "PUT" })).status,
      ).toBe(201);
      expect((await api.call(`/v2/crash/resume/blobs/${digest}`)).text).toBe(
        "first half, second half",
      );
      const manifest = await api.call("/v2/crash/resume/manifests/v1", {
        headers: { Accept: OCI_MANIFEST },
      });
      expect(manifest.text).toBe(image.manifest);
    } finally {
      await registry.close();
    }
  });

  it("reports an unusable directory as HOIST_REGISTRY_STORAGE_FAILED, and the registry answers 500", async () => {
    const dir = await tempDir();
    const file = join(dir, "not-a-directory");
    await writeFile(file, "x");
    const storage = fileStorage(file);
    const failure = storage.listRepositories();
    await expect(failure).rejects.toMatchObject({ code: "HOIST_REGISTRY_STORAGE_FAILED" });
    await expect(failure).rejects.toThrow(/writable/);
    const errors: unknown[] = [];
    const registry = await startRegistry({
      storage,
      logger: (e) => e.level === "error" && errors.push(e.error),
    });
    try {
      const res = await client(registry.url).call("/v2/_catalog");
      expect(res.status).toBe(500);
      expect(res.codes()).toEqual(["UNKNOWN"]);
      expect(errors).toHaveLength(1);
    } finally {
      await registry.close();
    }
  });

  it("refuses a missing directory argument", () => {
    expect(() => fileStorage("")).toThrow(
      expect.objectContaining({ code: "HOIST_REGISTRY_INVALID_OPTION" }),
    );
  });

  it("keeps tags that differ only in case apart", async () => {
    const storage = fileStorage(await tempDir());
    await storage.setTag("case/repo", "Tag", sha256("upper"));
    await storage.setTag("case/repo", "tag", sha256("lower"));
    expect(await storage.getTag("case/repo", "Tag")).toBe(sha256("upper"));
    expect(await storage.getTag("case/repo", "tag")).toBe(sha256("lower"));
  });

  it("streams blobs without reading them whole", async () => {
    const storage = fileStorage(await tempDir());
    const upload = await storage.createUpload("big/repo");
    const chunk = Buffer.alloc(1024 * 1024, 1);
    async function* many() {
      for (let i = 0; i < 8; i++) yield chunk;
    }
    await storage.writeUpload(upload.id, 0, many());
    const { digest } = await storage.commitUpload(
      upload.id,
      sha256(Buffer.concat(Array(8).fill(chunk))),
    );
    const stream = await storage.readBlob(digest);
    expect(stream).toBeInstanceOf(Readable);
    let largest = 0;
    let total = 0;
    for await (const part of stream) {
      largest = Math.max(largest, (part as Buffer).length);
      total += (part as Buffer).length;
    }
    expect(total).toBe(8 * 1024 * 1024);
    expect(largest).toBeLessThanOrEqual(256 * 1024);
  });
});
