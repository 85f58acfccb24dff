import { describe, expect, it } from "vitest";
import { client, raw, sha256 } from "./support/http.js";
import { useRegistry } from "./support/registries.js";

describe("routing and names", () => {
  const registry = useRegistry("memory");
  const api = () => client(registry().url);

  it.each([
    "/v2/Upper/tags/list",
    "/v2/a//b/tags/list",
    "/v2/-lead/tags/list",
    "/v2/trail-/tags/list",
    "/v2/a/.hidden/tags/list",
    "/v2/a%2Fb/tags/list",
    `/v2/${"a".repeat(256)}/tags/list`,
    "/v2/_private/manifests/latest",
  ])("answers 400 NAME_INVALID for %s", async (path) => {
    const res = await api().call(path);
    expect(res.status).toBe(400);
    expect(res.codes()).toEqual(["NAME_INVALID"]);
  });

  it("routes repository names that contain route words", async () => {
    const image = await api().pushImage("blobs/manifests/tags", "v1");
    const res = await api().call(`/v2/blobs/manifests/tags/blobs/${image.layer.digest}`);
    expect(res.status).toBe(200);
    expect((await api().call("/v2/blobs/manifests/tags/tags/list")).json()).toEqual({
      name: "blobs/manifests/tags",
      tags: ["v1"],
    });
  });

  it("answers 404 UNSUPPORTED outside the API and 405 with Allow for a wrong method", async () => {
    for (const path of ["/", "/v1/", "/v2/foo", "/v2/foo/bar"]) {
      const res = await api().call(path);
      expect(res.status, path).toBe(404);
      expect(res.codes(), path).toEqual(["UNSUPPORTED"]);
    }
    const post = await api().call("/v2/foo/manifests/latest", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD, PUT, DELETE");
    expect(post.codes()).toEqual(["UNSUPPORTED"]);
    expect((await api().call("/v2/_catalog", { method: "DELETE" })).status).toBe(405);
    expect((await api().call(`/v2/foo/blobs/${sha256("x")}`, { method: "PUT" })).status).toBe(405);
  });

  it("has no token endpoint without bearer auth", async () => {
    const res = await api().call("/token?service=x&scope=repository:a:pull");
    expect(res.status).toBe(404);
  });

  it("keeps a connection usable after an early error on a small body", async () => {
    // Same socket for both requests: the unread body of the first must not leak into the second.
    const { Agent, request } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (path: string, method: string, body?: string) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        const req = request(`${registry().url}${path}`, { method, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, socket: req.socket }));
        });
        req.on("error", reject);
        req.end(body);
      });
    const first = await send("/v2/Bad/manifests/x", "PUT", "x".repeat(10_000));
    const second = await send("/v2/", "GET");
    expect(first.status).toBe(400);
    expect(second.status).toBe(200);
    expect(second.socket).toBe(first.socket);
    agent.destroy();
  });

  it("answers a raw request for an unknown upload id cleanly", async () => {
    const res = await raw(`${registry().url}/v2/foo/blobs/uploads/not-a-uuid`, {
      method: "PATCH",
      body: "x",
    });
    expect(res.status).toBe(404);
    expect(res.codes()).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
  });
});

describe("odd request targets", () => {
  const registry = useRegistry("memory");

  it("treats a target that starts with // as a path, not a host", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: "127.0.0.1", port: registry().port, path: "//v2/", agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });
    expect(status).toBe(404);
    expect(registry().requests().at(-1)?.path).toBe("//v2/");
  });
});
