import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  type RunningFaultProxy,
  type RunningHttpOrigin,
  startFaultProxy,
  startHttpOrigin,
  useDockerRegistry,
  useStarted,
} from "@hoist/harness";
import {
  appendLayers,
  createImage,
  type Image,
  type Layer,
  MediaType,
  randomImage,
  randomIndex,
} from "@hoist/oci";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createPuller, createPusher, type RemoteError, type RemoteOptions } from "../src/index.js";
import {
  blobBytes,
  caught,
  describe as describeBytes,
  fingerprint,
  memorySource,
  openedLayer,
  uniqueRepo,
} from "./helpers.js";
import { assertProgress } from "./shared-suite.js";

// Faults injected between hoist and a real docker-registry: connections cut mid-body, servers
// that ignore Range, 5xx and 429 bursts, chunk failures, a lagging Range (ECR), HEADs without
// digests (Harbor, distribution with token auth), manifests without media types.

const FAST_RETRY: RemoteOptions["retry"] = { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 };

describe("faults between client and docker-registry", () => {
  const registry = useDockerRegistry();
  const proxy = useStarted<RunningFaultProxy>(
    "fault proxy",
    () => startFaultProxy({ target: registry().url, seed: 3 }),
    (p) => p.stop(),
  );
  const origin = useStarted<RunningHttpOrigin>(
    "blob origin",
    () => startHttpOrigin(),
    (o) => o.stop(),
  );
  const pusher = createPusher({ retry: FAST_RETRY });
  const puller = createPuller({ retry: FAST_RETRY });
  afterAll(async () => {
    await pusher.close();
    await puller.close();
  });
  const direct = (repo: string, tag = "latest") =>
    tag.includes(":") ? `${registry().host}/${repo}@${tag}` : `${registry().host}/${repo}:${tag}`;
  const proxied = (repo: string, tag = "latest") =>
    tag.includes(":") ? `${proxy().host}/${repo}@${tag}` : `${proxy().host}/${repo}:${tag}`;

  beforeEach(() => {
    proxy().clearRules();
    proxy().clearRequests();
  });

  async function pushed(seed: number, layerSize = 256 * 1024) {
    const repo = uniqueRepo("faults");
    const image = randomImage({ layers: 1, layerSize, seed });
    await pusher.write(direct(repo), image);
    const layer = (await image.layers())[0] as Layer;
    return { repo, image, layer, digest: (await layer.digest()).toString() };
  }

  const blobGets = (digest: string) =>
    proxy()
      .requests()
      .filter((r) => r.method === "GET" && r.path.endsWith(`/blobs/${digest}`));

  it("resumes a blob with Range after the connection drops mid-body", async () => {
    const { repo, layer, digest } = await pushed(1);
    proxy().setRules([
      {
        method: "GET",
        path: /\/blobs\/sha256:/,
        times: 1,
        fault: { kind: "reset-body", afterBytes: 100_000 },
      },
    ]);
    const pulled = await puller.layer(proxied(repo, digest));
    expect(fingerprint(await blobBytes(pulled))).toBe(fingerprint(await blobBytes(layer)));
    const gets = blobGets(digest);
    expect(gets).toHaveLength(2);
    expect(gets[0]?.fault).toBe("reset-body");
    expect(gets[1]?.headers.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it("resumes after a body cut short cleanly (truncated) and through an image's layers", async () => {
    const { repo, layer, digest } = await pushed(2);
    proxy().setRules([
      {
        method: "GET",
        path: /\/blobs\/sha256:/,
        times: 2,
        fault: { kind: "truncate", afterBytes: 50_000 },
      },
    ]);
    const image = await puller.image(proxied(repo));
    const [pulled] = await image.layers();
    expect(fingerprint(await blobBytes(pulled as Layer))).toBe(fingerprint(await blobBytes(layer)));
    expect(blobGets(digest).length).toBeGreaterThanOrEqual(2);
  });

  it("skips what it already has when a server ignores Range and sends everything", async () => {
    const { repo, layer, digest } = await pushed(3);
    proxy().setRules([
      {
        method: "GET",
        path: /\/blobs\/sha256:/,
        times: 1,
        fault: { kind: "reset-body", afterBytes: 70_000 },
      },
      {
        method: "GET",
        path: /\/blobs\/sha256:/,
        fault: {
          kind: "rewrite",
          requestHeaders: ({ range: _dropped, ...headers }) => headers,
        },
      },
    ]);
    const pulled = await puller.layer(proxied(repo, digest));
    expect(fingerprint(await blobBytes(pulled))).toBe(fingerprint(await blobBytes(layer)));
    const gets = blobGets(digest);
    expect(gets).toHaveLength(2);
    expect(gets[1]?.status).toBe(200);
  });

  it("gives up with a network error when the connection keeps dropping without progress", async () => {
    const { repo, digest } = await pushed(4);
    proxy().setRules([
      { method: "GET", path: /\/blobs\/sha256:/, fault: { kind: "reset-body", afterBytes: 0 } },
    ]);
    const pulled = await puller.layer(proxied(repo, digest));
    const error = await caught<RemoteError>(() => blobBytes(pulled));
    expect(error.code).toBe("HOIST_REMOTE_NETWORK");
    expect(error.message).toContain(digest);
  });

  it("rides out 503 and 429 bursts on manifests and blobs", async () => {
    const { repo, layer } = await pushed(5, 4096);
    proxy().setRules([
      { method: "GET", path: /\/manifests\//, times: 2, fault: { kind: "status", status: 503 } },
      {
        method: "GET",
        path: /\/blobs\//,
        times: 1,
        fault: { kind: "status", status: 429, headers: { "retry-after": "1" } },
      },
      { method: "GET", path: /\/blobs\//, times: 1, fault: { kind: "status", status: 502 } },
    ]);
    const image = await puller.image(proxied(repo));
    const [pulled] = await image.layers();
    expect(fingerprint(await blobBytes(pulled as Layer))).toBe(fingerprint(await blobBytes(layer)));
    const faults = proxy()
      .requests()
      .map((r) => r.fault)
      .filter(Boolean);
    expect(faults).toEqual(["status", "status", "status", "status"]);
  });

  it("rides out 503 bursts on uploads and manifest pushes", async () => {
    const repo = uniqueRepo("push-503");
    const image = randomImage({ layers: 2, layerSize: 2048, seed: 6 });
    proxy().setRules([
      {
        method: "PUT",
        path: /\/blobs\/uploads\//,
        times: 2,
        fault: { kind: "status", status: 503 },
      },
      { method: "PUT", path: /\/manifests\//, times: 1, fault: { kind: "status", status: 503 } },
      {
        method: "POST",
        path: /\/blobs\/uploads\//,
        times: 1,
        fault: { kind: "status", status: 500 },
      },
    ]);
    const progress: Array<{ complete: number; total: number }> = [];
    await pusher.write(proxied(repo), image, { onProgress: (p) => progress.push(p) });
    expect((await puller.head(direct(repo))).digest.equals(await image.digest())).toBe(true);
    assertProgress(progress);
  });

  it("starts a chunked upload over when a stored chunk's answer is lost", async () => {
    const repo = uniqueRepo("chunk-lost");
    const image = randomImage({ layers: 1, layerSize: 160 * 1024, seed: 7 });
    const [layer] = await image.layers();
    const digest = (await (layer as Layer).digest()).toString();
    proxy().setRules([
      // The registry stores the second chunk, but its answer never arrives.
      {
        method: "PATCH",
        path: /\/blobs\/uploads\//,
        after: 1,
        times: 1,
        fault: { kind: "lose-response" },
      },
    ]);
    await pusher.write(proxied(repo), image, { chunkSize: 32 * 1024 });
    const requests = proxy().requests();
    // The client asked the upload URL what arrived; distribution's signed `_state` no longer
    // matches, so the session is gone (404) and the blob is uploaded again from the start.
    const status = requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/uploads/"));
    expect(status.map((r) => r.status)).toEqual([404]);
    const posts = requests.filter((r) => r.method === "POST");
    expect(posts.length).toBe(3); // layer twice, config once
    const pulled = await puller.layer(direct(repo, digest));
    expect(fingerprint(await blobBytes(pulled))).toBe(fingerprint(await blobBytes(layer as Layer)));
  });

  it("resends a chunk the registry never got, after a 500 or a reset", async () => {
    const repo = uniqueRepo("chunk-failed");
    const image = randomImage({ layers: 1, layerSize: 160 * 1024, seed: 8 });
    proxy().setRules([
      {
        method: "PATCH",
        path: /\/blobs\/uploads\//,
        after: 1,
        times: 1,
        fault: { kind: "status", status: 500 },
      },
      { method: "PATCH", path: /\/blobs\/uploads\//, after: 2, times: 1, fault: { kind: "reset" } },
    ]);
    await pusher.write(proxied(repo), image, { chunkSize: 32 * 1024 });
    const requests = proxy().requests();
    const ranges = requests
      .filter((r) => r.method === "PATCH")
      .map((r) => r.headers["content-range"]);
    // The failed chunks were sent again, in the same session, after asking what had arrived.
    expect(ranges).toEqual([
      "0-32767",
      "32768-65535",
      "32768-65535",
      "65536-98303",
      "65536-98303",
      "98304-131071",
      "131072-163839",
      "163840-164031",
    ]);
    const status = requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/uploads/"));
    expect(status.map((r) => r.status)).toEqual([204, 204]);
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(2);
    expect((await puller.head(direct(repo))).digest.equals(await image.digest())).toBe(true);
  });

  it("tolerates a Range answer that lags behind what was stored (ECR)", async () => {
    const repo = uniqueRepo("ecr");
    const image = randomImage({ layers: 1, layerSize: 160 * 1024, seed: 9 });
    const stale = {
      kind: "rewrite" as const,
      response: ({ status, headers }: { status: number; headers: Record<string, unknown> }) => ({
        status,
        headers: { ...headers, range: "0-0" },
      }),
    };
    proxy().setRules([
      {
        method: "PATCH",
        path: /\/blobs\/uploads\//,
        after: 2,
        times: 1,
        fault: { kind: "status", status: 500 },
      },
      { method: ["PATCH", "GET"], path: /\/blobs\/uploads\//, fault: stale },
    ]);
    await pusher.write(proxied(repo), image, { chunkSize: 32 * 1024 });
    expect((await puller.head(direct(repo))).digest.equals(await image.digest())).toBe(true);
  });

  it("falls back to GET when HEAD gives no digest or is refused", async () => {
    const { repo, image } = await pushed(10, 512);
    proxy().setRules([
      {
        method: "HEAD",
        path: /\/manifests\/latest$/,
        fault: {
          kind: "rewrite",
          response: ({ status, headers }) => ({
            status,
            headers: { ...headers, "docker-content-digest": undefined },
          }),
        },
      },
      { method: "HEAD", path: /\/manifests\/refused$/, fault: { kind: "status", status: 405 } },
    ]);
    await pusher.write(direct(repo, "refused"), image);
    for (const tag of ["latest", "refused"]) {
      proxy().clearRequests();
      const head = await puller.head(proxied(repo, tag));
      expect(head.digest.equals(await image.digest())).toBe(true);
      expect(head.mediaType).toBe(MediaType.OCI_MANIFEST);
      expect(
        proxy()
          .requests()
          .map((r) => r.method),
      ).toEqual(["HEAD", "GET"]);
    }
  });

  it("types manifests without mediaType from the body, and strips Content-Type parameters", async () => {
    const repo = uniqueRepo("untyped");
    const image = randomImage({ layers: 1, layerSize: 512, seed: 11 });
    await pusher.write(direct(repo, "typed"), image);
    const { mediaType: _gone, ...untyped } = await image.manifest();
    const raw = new TextEncoder().encode(JSON.stringify(untyped));
    await pusher.put(direct(repo, "untyped"), {
      rawManifest: async () => raw,
      mediaType: async () => MediaType.OCI_MANIFEST,
    });
    const contentType = (value: string) => ({
      kind: "rewrite" as const,
      response: ({ status, headers }: { status: number; headers: Record<string, unknown> }) => ({
        status,
        headers: { ...headers, "content-type": value },
      }),
    });
    proxy().setRules([
      { method: "GET", path: /\/manifests\/untyped$/, fault: contentType("application/json") },
      {
        method: "GET",
        path: /\/manifests\/typed$/,
        fault: contentType(`${MediaType.OCI_MANIFEST}; charset=utf-8`),
      },
    ]);
    const sniffed = await puller.get(proxied(repo, "untyped"));
    expect(sniffed.descriptor.mediaType).toBe(MediaType.OCI_MANIFEST);
    expect(await (await sniffed.image()).mediaType()).toBe(MediaType.OCI_MANIFEST);
    const stripped = await puller.get(proxied(repo, "typed"));
    expect(stripped.descriptor.mediaType).toBe(MediaType.OCI_MANIFEST);
  });

  it("checks Docker-Content-Digest on pulls by tag, and ignores it when malformed", async () => {
    const { repo, image } = await pushed(12, 512);
    const digestHeader = (value: string) => ({
      kind: "rewrite" as const,
      response: ({ status, headers }: { status: number; headers: Record<string, unknown> }) => ({
        status,
        headers: { ...headers, "docker-content-digest": value },
      }),
    });
    proxy().setRules([
      {
        method: "GET",
        path: /\/manifests\/latest$/,
        times: 1,
        fault: digestHeader(`sha256:${"0".repeat(64)}`),
      },
      {
        method: "GET",
        path: /\/manifests\/latest$/,
        times: 1,
        fault: digestHeader("sha256:not-hex"),
      },
    ]);
    const error = await caught<RemoteError>(() => puller.get(proxied(repo)));
    expect(error.code).toBe("HOIST_REMOTE_DIGEST_MISMATCH");
    expect(error.message).toContain("Docker-Content-Digest");
    const got = await puller.get(proxied(repo));
    expect(got.descriptor.digest.equals(await image.digest())).toBe(true);
  });

  it("fetches a foreign layer from its URLs when the registry does not have it", async () => {
    const repo = uniqueRepo("foreign-urls");
    const base = randomImage({ layers: 1, layerSize: 512, seed: 13 });
    const foreign = Buffer.from("bytes only the CDN has");
    origin().setHandler((request, res) => {
      if (request.path === "/layer.tar.gz") {
        res.writeHead(200, { "content-length": String(foreign.length) });
        res.end(foreign);
        return;
      }
      res.writeHead(404);
      res.end();
    });
    const manifest = await base.manifest();
    const image: Image = createImage({
      rawManifest: new TextEncoder().encode(
        JSON.stringify({
          ...manifest,
          layers: [
            ...manifest.layers,
            {
              ...describeBytes(foreign, MediaType.DOCKER_FOREIGN_LAYER),
              urls: [`${origin().url}/missing`, `${origin().url}/layer.tar.gz`],
            },
          ],
        }),
      ),
      source: {
        blob: async (descriptor) => {
          if (descriptor.digest.equals(manifest.config.digest)) {
            return Readable.from([await base.rawConfigFile()]);
          }
          return (await base.layerByDigest(descriptor.digest)).compressed();
        },
      },
    });
    await pusher.write(direct(repo), image);
    const pulled = await puller.image(direct(repo));
    const layers = await pulled.layers();
    expect(await buffer(await (layers[1] as Layer).compressed())).toEqual(foreign);
    expect(
      origin()
        .requests()
        .map((r) => r.path),
    ).toEqual(["/missing", "/layer.tar.gz"]);
    expect(
      origin()
        .requests()
        .every((r) => r.headers.authorization === undefined),
    ).toBe(true);
  });

  it("reports an artifact manifest's type in its descriptor", async () => {
    const repo = uniqueRepo("memory");
    const config = new TextEncoder().encode("{}");
    const image = createImage({
      rawManifest: new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OCI_MANIFEST,
          artifactType: "application/vnd.example",
          config: describeBytes(config, MediaType.OCI_EMPTY),
          layers: [],
        }),
      ),
      source: memorySource([config]),
    });
    await pusher.write(proxied(repo), image);
    expect((await puller.get(direct(repo))).descriptor.artifactType).toBe(
      "application/vnd.example",
    );
  });
  /** Stalls every manifest HEAD and waits until `expected` HEADs reached the registry. */
  async function headsWhileManifestsStall(
    repo: string,
    push: (signal: AbortSignal) => Promise<unknown>,
    expected: number,
  ): Promise<{ manifests: string[]; blobs: number }> {
    proxy().setRules([{ method: "HEAD", path: /\/manifests\//, fault: { kind: "stall" } }]);
    const controller = new AbortController();
    const pushing = push(controller.signal).catch((error: unknown) => error);
    // Only this push's: a push of an earlier test may still be finishing checks it sent ahead.
    const heads = () =>
      proxy()
        .requests()
        .filter((r) => r.method === "HEAD" && r.path.startsWith(`/v2/${repo}/`));
    const deadline = Date.now() + 10_000;
    while (heads().length < expected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // A moment more, for anything sent beyond what was expected.
    await new Promise((r) => setTimeout(r, 100));
    const seen = heads();
    controller.abort(new Error("enough"));
    expect(await pushing).toBeInstanceOf(Error);
    return {
      manifests: seen.filter((r) => r.path.includes("/manifests/")).map((r) => r.path),
      blobs: seen.filter((r) => r.path.includes("/blobs/")).length,
    };
  }

  it("asks about the tag, the index and its children in one round", async () => {
    const repo = uniqueRepo("rounds");
    const index = randomIndex({ images: 2, layers: 1, layerSize: 1024, seed: 41 });
    const children = (await index.indexManifest()).manifests.map((m) => String(m.digest));
    // With every manifest HEAD hanging, a push asking level by level would send only the tag's.
    const { manifests } = await headsWhileManifestsStall(
      repo,
      (signal) => pusher.writeIndex(proxied(repo), index, { jobs: 1, signal }),
      4,
    );
    expect(manifests.sort()).toEqual(
      [
        `/v2/${repo}/manifests/latest`,
        `/v2/${repo}/manifests/${await index.digest()}`,
        ...children.map((digest) => `/v2/${repo}/manifests/${digest}`),
      ].sort(),
    );
  });

  it("asks about an image's first blobs with its tag and manifest", async () => {
    const repo = uniqueRepo("rounds");
    const image = randomImage({ layers: 3, layerSize: 1024, seed: 42 });
    // Two jobs: the config and the first layer are asked about ahead, the rest after planning.
    const { manifests, blobs } = await headsWhileManifestsStall(
      repo,
      (signal) => pusher.write(proxied(repo), image, { jobs: 2, signal }),
      4,
    );
    expect(manifests.sort()).toEqual(
      [`/v2/${repo}/manifests/latest`, `/v2/${repo}/manifests/${await image.digest()}`].sort(),
    );
    expect(blobs).toBe(2);
  });

  it("reports a failed check at once, not after a check sent ahead that hangs", async () => {
    const repo = uniqueRepo("rounds");
    const image = randomImage({ layers: 1, layerSize: 1024, seed: 43 });
    proxy().setRules([
      {
        method: "HEAD",
        path: `/v2/${repo}/manifests/latest`,
        fault: { kind: "status", status: 400 },
      },
      { method: "HEAD", path: /\/manifests\/sha256:/, fault: { kind: "stall" } },
    ]);
    const controller = new AbortController();
    const pushing = pusher
      .write(proxied(repo), image, { signal: controller.signal })
      .catch((error: unknown) => error);
    const late = new Promise((resolve) => setTimeout(() => resolve("still waiting"), 5_000));
    const outcome = await Promise.race([pushing, late]);
    controller.abort(new Error("enough"));
    expect(outcome).toMatchObject({ code: "HOIST_REMOTE_REGISTRY_ERROR", status: 400 });
  });

  it("checks whether the blobs exist all at once, not one job slot at a time", async () => {
    const repo = uniqueRepo("checks");
    const image = randomImage({ layers: 6, layerSize: 1024, seed: 40 });
    // Every blob HEAD hangs: with the checks inside the one job slot, a single HEAD would be
    // sent and the push would wait on it; checked side by side, all seven (6 layers, config)
    // reach the registry before any answer.
    proxy().setRules([{ method: "HEAD", path: /\/blobs\/sha256:/, fault: { kind: "stall" } }]);
    const controller = new AbortController();
    const push = pusher
      .write(proxied(repo), image, { jobs: 1, signal: controller.signal })
      .catch((error: unknown) => error);
    const heads = () =>
      proxy()
        .requests()
        .filter((r) => r.method === "HEAD" && r.path.startsWith(`/v2/${repo}/blobs/`)).length;
    const deadline = Date.now() + 10_000;
    while (heads() < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error("enough"));
    expect(heads()).toBe(7);
    expect(await push).toBeInstanceOf(Error);
  });

  it("opens the next blob's upload session while a blob uploads, and closes it when stopped", async () => {
    const repo = uniqueRepo("ahead");
    const image = randomImage({ layers: 3, layerSize: 1024, seed: 44 });
    // Every blob PUT hangs once its bytes are sent. One job: one blob waits for its answer
    // outside the slot, the next sends its bytes and then waits in the slot (the one answering
    // turn is taken), one more waits with its session open, and the last waits without one.
    proxy().setRules([{ method: "PUT", path: /\/blobs\/uploads\//, fault: { kind: "stall" } }]);
    const controller = new AbortController();
    const push = pusher
      .write(proxied(repo), image, { jobs: 1, signal: controller.signal })
      .catch((error: unknown) => error);
    const sent = (method: string) =>
      proxy()
        .requests()
        .filter((r) => r.method === method && r.path.startsWith(`/v2/${repo}/blobs/uploads/`));
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => sent("PUT").length >= 2 && sent("POST").length >= 3);
    // A moment more, for any upload or session beyond the bounds.
    await new Promise((r) => setTimeout(r, 100));
    expect(sent("PUT")).toHaveLength(2);
    expect(sent("POST")).toHaveLength(3);
    expect(sent("POST").every((r) => r.status === 202)).toBe(true);
    controller.abort(new Error("enough"));
    expect(await push).toBeInstanceOf(Error);
    // Every session is given back: the two stopped uploads' and the one that never got its turn.
    await until(() => sent("DELETE").length >= 3);
    expect(sent("DELETE")).toHaveLength(3);
  });

  it("stops a push without an uncaught error when its layer, opened beside its session, fails", async () => {
    const repo = uniqueRepo("stopped-early");
    const opened: Readable[] = [];
    // Like a layout's blob file, the layer's stream follows the signal it was opened with.
    const layer = openedLayer(Buffer.alloc(64 * 1024, 9), (options) => {
      const stream = new Readable({ read() {} });
      options?.signal?.addEventListener("abort", () => stream.destroy(options.signal?.reason), {
        once: true,
      });
      opened.push(stream);
      return stream;
    });
    const image = appendLayers(randomImage({ layers: 0, seed: 46 }), [layer]);
    // Every upload session hangs: the layer is opened beside its POST and waits there.
    proxy().setRules([{ method: "POST", path: /\/blobs\/uploads\//, fault: { kind: "stall" } }]);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const controller = new AbortController();
      // Two jobs: the config's upload and the layer's both wait for their session.
      const push = pusher
        .write(proxied(repo), image, { jobs: 2, signal: controller.signal })
        .catch((error: unknown) => error);
      const deadline = Date.now() + 10_000;
      while (opened.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(opened).toHaveLength(1);
      controller.abort(new Error("stopped"));
      expect(await push).toMatchObject({ code: "HOIST_REMOTE_ABORTED" });
      await new Promise((r) => setTimeout(r, 20));
      expect(opened[0]?.destroyed).toBe(true);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });

  it("opens a session again when the one opened ahead was lost while it waited", async () => {
    const repo = uniqueRepo("ahead-lost");
    const image = randomImage({ layers: 3, layerSize: 4096, seed: 45 });
    // The registry forgot the first session a blob uploads to (as one that expires would be).
    proxy().setRules([
      {
        method: "PUT",
        path: /\/blobs\/uploads\//,
        times: 2,
        fault: {
          kind: "status",
          status: 404,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ errors: [{ code: "BLOB_UPLOAD_UNKNOWN", message: "gone" }] }),
        },
      },
    ]);
    const pushed = await pusher.write(proxied(repo), image, { jobs: 1 });
    expect(pushed.digest.equals(await image.digest())).toBe(true);
    // Every layer reads back whole (a pulled layer is verified as it is read).
    const pulled = await (await puller.image(direct(repo))).layers();
    const layers = await image.layers();
    expect(pulled).toHaveLength(layers.length);
    for (const [at, layer] of layers.entries()) {
      expect(fingerprint(await buffer(await (pulled[at] as Layer).compressed()))).toBe(
        fingerprint(await buffer(await layer.compressed())),
      );
    }
    const posts = proxy()
      .requests()
      .filter((r) => r.method === "POST" && r.path.startsWith(`/v2/${repo}/blobs/uploads/`));
    // One session per blob (4), and one more for each of the two lost.
    expect(posts).toHaveLength(6);
  });
});
