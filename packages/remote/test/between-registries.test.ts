import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { Readable } from "node:stream";
import { useDockerRegistry, useStarted } from "@hoist/harness";
import { appendLayers, type Layer, randomImage, randomIndex } from "@hoist/oci";
import { type RunningRegistry, startRegistry } from "@hoist/registry";
import { afterAll, describe, expect, it } from "vitest";
import { createPuller, createPusher, type Progress } from "../src/index.js";
import { blobBytes, fingerprint, openedLayer, uniqueRepo } from "./helpers.js";
import { assertProgress } from "./shared-suite.js";

// Copies between two different registries (blobs stream from one to the other, nothing is
// mounted), and registry policies a client must adapt to: mounts refused, page sizes capped.

describe("between registries", () => {
  const docker = useDockerRegistry();
  const hoist = useStarted<RunningRegistry>(
    "@hoist/registry (no mounts, pages of at most 100)",
    () => startRegistry({ mount: false, limits: { maxPageSize: 100 } }),
    (r) => r.close(),
  );
  const pusher = createPusher();
  const puller = createPuller();
  afterAll(async () => {
    await pusher.close();
    await puller.close();
  });

  it("copies an index from docker-registry to @hoist/registry and back, digest for digest", async () => {
    const repo = uniqueRepo("across");
    const index = randomIndex({ images: 2, layers: 2, layerSize: 64 * 1024, seed: 1 });
    await pusher.writeIndex(`${docker().host}/${repo}:v1`, index);
    hoist().clearRequests();
    const progress: Progress[] = [];
    const there = await pusher.copy(`${docker().host}/${repo}:v1`, `${hoist().host}/${repo}:v1`, {
      onProgress: (p) => progress.push(p),
    });
    expect(there.digest.equals(await index.digest())).toBe(true);
    assertProgress(progress);
    expect(
      hoist()
        .requests()
        .some((r) => r.url.includes("mount=")),
    ).toBe(false);
    const back = await pusher.copy(
      `${hoist().host}/${repo}:v1`,
      `${docker().host}/${repo}-back:v1`,
    );
    expect(back.digest.equals(await index.digest())).toBe(true);
    const child = (await index.indexManifest()).manifests[1]?.digest.toString() ?? "";
    const pulled = await puller.image(`${docker().host}/${repo}-back@${child}`);
    const ours = await (await index.image(child)).layers();
    const theirs = await pulled.layers();
    for (let i = 0; i < ours.length; i++) {
      expect(fingerprint(await blobBytes(theirs[i] as Layer))).toBe(
        fingerprint(await blobBytes(ours[i] as Layer)),
      );
    }
  });

  it("copies every blob, the config included, on the transport's own connections, none through undici", async () => {
    const repo = uniqueRepo("own-connections");
    const image = randomImage({ layers: 2, layerSize: 32 * 1024, seed: 3 });
    await pusher.write(`${docker().host}/${repo}:v1`, image);
    // undici announces every request it creates on this channel.
    const viaUndici: string[] = [];
    const listener = (message: unknown) => {
      const { request } = message as { request: { method: string; path: string } };
      viaUndici.push(`${request.method} ${request.path}`);
    };
    subscribe("undici:request:create", listener);
    const copier = createPusher();
    try {
      const copied = await copier.copy(`${docker().host}/${repo}:v1`, `${hoist().host}/${repo}:v1`);
      expect(copied.digest.equals(await image.digest())).toBe(true);
    } finally {
      unsubscribe("undici:request:create", listener);
      await copier.close();
    }
    expect(viaUndici).toEqual([]);
  });

  it("uploads into the session a registry opens when it will not mount (202)", async () => {
    const source = uniqueRepo("no-mount-src");
    const target = uniqueRepo("no-mount-dst");
    const image = randomImage({ layers: 1, layerSize: 4096, seed: 2 });
    await pusher.write(`${hoist().host}/${source}:v1`, image);
    hoist().clearRequests();
    await pusher.write(`${hoist().host}/${target}:v1`, image);
    const uploads = hoist()
      .requests()
      .filter(
        (r) => r.repository === target && (r.route === "upload-start" || r.route === "upload"),
      )
      .map((r) => `${r.method} ${r.url.includes("mount=") ? "mount" : r.route} ${r.status}`);
    // The layer and the config (uploaded side by side): each a refused mount whose session
    // takes the upload, with no second POST.
    expect([...uploads].sort()).toEqual([
      "POST mount 202",
      "POST mount 202",
      "PUT upload 201",
      "PUT upload 201",
    ]);
    expect(
      (await puller.head(`${hoist().host}/${target}:v1`)).digest.equals(await image.digest()),
    ).toBe(true);
  });

  it("copies one image to many tags side by side, putting each blob into the repository once", async () => {
    const source = uniqueRepo("side-src");
    const target = uniqueRepo("side-dst");
    const image = randomImage({ layers: 4, layerSize: 32 * 1024, seed: 4 });
    await pusher.write(`${hoist().host}/${source}:v1`, image);
    hoist().clearRequests();
    const tags = ["a", "b", "c", "d", "e", "f"];
    await Promise.all(
      tags.map((tag) =>
        pusher.copy(`${hoist().host}/${source}:v1`, `${hoist().host}/${target}:${tag}`),
      ),
    );
    const manifest = await image.manifest();
    const blobs = [manifest.config, ...manifest.layers].map((d) => d.digest.toString()).sort();
    const started = hoist()
      .requests()
      .filter((r) => r.repository === target && r.route === "upload-start")
      .map((r) => new URL(r.url, "http://x").searchParams.get("mount"));
    expect([...started].sort()).toEqual(blobs);
    for (const tag of tags) {
      const head = await puller.head(`${hoist().host}/${target}:${tag}`);
      expect(head.digest.equals(await image.digest())).toBe(true);
    }
  });

  it("copies one image to many tags of docker-registry side by side, every tag whole", async () => {
    // docker-registry rewrites a repository's link to a blob by truncating it first: a second
    // mount of a blob while another copy PUTs its manifest made that PUT fail.
    const image = randomImage({ layers: 16, layerSize: 8 * 1024, seed: 5 });
    const source = uniqueRepo("side-src");
    await pusher.write(`${docker().host}/${source}:v1`, image);
    for (let round = 0; round < 3; round++) {
      const target = uniqueRepo("side-dst");
      const tags = ["a", "b", "c", "d", "e", "f", "g", "h"];
      await Promise.all(
        tags.map((tag) =>
          pusher.copy(`${docker().host}/${source}:v1`, `${docker().host}/${target}:${tag}`),
        ),
      );
      expect((await puller.list(`${docker().host}/${target}`)).sort()).toEqual(tags);
      for (const tag of tags) {
        const head = await puller.head(`${docker().host}/${target}:${tag}`);
        expect(head.digest.equals(await image.digest())).toBe(true);
      }
    }
  });

  it("asks for smaller pages when a registry refuses the page size (ECR, Quay)", async () => {
    const repo = uniqueRepo("pages");
    const image = randomImage({ layers: 1, layerSize: 128, seed: 3 });
    const tags = Array.from({ length: 120 }, (_, i) => `t${String(i).padStart(3, "0")}`);
    await pusher.multiWrite(tags.map((tag) => [`${hoist().host}/${repo}:${tag}`, image] as const));
    hoist().clearRequests();
    expect(await puller.list(`${hoist().host}/${repo}`)).toEqual(tags);
    const pages = hoist()
      .requests()
      .filter((r) => r.route === "tags")
      .map((r) => `${new URL(r.url, "http://x").searchParams.get("n")} ${r.status}`);
    expect(pages).toEqual(["1000 400", "100 200", "100 200"]);
  });
  it("opens a blob at the source while the destination opens its upload session", async () => {
    const source = await startRegistry({});
    const slow = await startRegistry({
      faults: {
        rules: [{ name: "slow session", route: "upload-start", method: "POST", latencyMs: 400 }],
      },
    });
    const copier = createPusher();
    try {
      const repo = uniqueRepo("early-source");
      const image = randomImage({ layers: 1, layerSize: 256, seed: 5 });
      await copier.write(`${source.host}/${repo}:v1`, image);
      source.clearRequests();
      const copied = await copier.copy(`${source.host}/${repo}:v1`, `${slow.host}/${repo}:v1`);
      expect(copied.digest.equals(await image.digest())).toBe(true);
      const [layer] = await image.layers();
      const digest = String(await layer?.digest());
      const get = source.requests().find((r) => r.route === "blob" && r.url.includes(digest));
      const post = slow.requests().find((r) => r.route === "upload-start" && r.fault);
      if (!get || !post) throw new Error("expected the layer's GET and a slow POST");
      // Before: the source was only opened once the session was, 400 ms later.
      expect(get.startedAt.getTime()).toBeLessThan(
        post.startedAt.getTime() + post.durationMs - 200,
      );
      // Opened early, read once: no second GET of the layer.
      expect(
        source.requests().filter((r) => r.route === "blob" && r.url.includes(digest)),
      ).toHaveLength(1);
    } finally {
      await copier.close();
      await source.close();
      await slow.close();
    }
  });

  it("opens the source of the blob that waits for a slot, and reads every blob once", async () => {
    const slow = await startRegistry({
      faults: {
        rules: [{ name: "slow blob", route: "blob", method: "GET", latencyMs: 300 }],
      },
    });
    const target = await startRegistry({});
    const copier = createPusher();
    try {
      const repo = uniqueRepo("source-ahead");
      const image = randomImage({ layers: 3, layerSize: 256, seed: 8 });
      await copier.write(`${slow.host}/${repo}:v1`, image);
      slow.clearRequests();
      const copied = await copier.copy(`${slow.host}/${repo}:v1`, `${target.host}/${repo}:v1`, {
        jobs: 1,
      });
      expect(copied.digest.equals(await image.digest())).toBe(true);
      const gets = slow.requests().filter((r) => r.route === "blob");
      // Three layers and the config, each read once.
      expect(gets).toHaveLength(4);
      expect(new Set(gets.map((r) => r.path)).size).toBe(4);
      const [first, second] = [...gets].sort(
        (a, b) => a.startedAt.getTime() - b.startedAt.getTime(),
      );
      if (!first || !second) throw new Error("expected the blobs' GETs");
      // One job: before, the next blob's GET went out once it had the slot, after the first
      // blob's bytes had come.
      expect(second.startedAt.getTime()).toBeLessThan(
        first.startedAt.getTime() + first.durationMs - 200,
      );
    } finally {
      await copier.close();
      await slow.close();
      await target.close();
    }
  });

  it("closes a blob it opened early when the upload session has to be opened again", async () => {
    const flaky = await startRegistry({
      faults: {
        rules: [
          {
            name: "session lost",
            route: "upload-start",
            method: "POST",
            status: 404,
            code: "BLOB_UPLOAD_UNKNOWN",
            // The first session of each blob (the layer and the config).
            times: 2,
          },
        ],
      },
    });
    const pusher = createPusher();
    try {
      const bytes = Buffer.alloc(64 * 1024, 7);
      const opened: Readable[] = [];
      const layer = openedLayer(bytes, () => {
        const stream = Readable.from([bytes]);
        opened.push(stream);
        return stream;
      });
      const image = appendLayers(randomImage({ layers: 0, seed: 6 }), [layer]);
      const repo = uniqueRepo("early-retried");
      const pushed = await pusher.write(`${flaky.host}/${repo}:v1`, image);
      expect(pushed.digest.equals(await image.digest())).toBe(true);
      expect(flaky.requests().filter((r) => r.fault)).toHaveLength(2);
      // The first attempt opened the layer beside its POST; the second opened it again.
      expect(opened).toHaveLength(2);
      expect(opened[0]?.destroyed).toBe(true);
    } finally {
      await pusher.close();
      await flaky.close();
    }
  });

  it("greets the destination while the source's manifest is still on its way", async () => {
    const slow = await startRegistry({
      faults: {
        rules: [{ name: "slow manifest", route: "manifest", method: "GET", latencyMs: 400 }],
      },
    });
    const target = await startRegistry({});
    const copier = createPusher();
    try {
      const repo = uniqueRepo("early-greeting");
      const image = randomImage({ layers: 1, layerSize: 256, seed: 4 });
      await copier.write(`${slow.host}/${repo}:v1`, image);
      slow.clearRequests();
      const copied = await copier.copy(`${slow.host}/${repo}:v1`, `${target.host}/${repo}:v1`);
      expect(copied.digest.equals(await image.digest())).toBe(true);
      const manifest = slow.requests().find((r) => r.route === "manifest" && r.fault);
      const greeting = target.requests().find((r) => r.route === "ping");
      if (!manifest || !greeting) throw new Error("expected the slow manifest and a ping");
      const answered = manifest.startedAt.getTime() + manifest.durationMs;
      // Before: the destination was only pinged after the slow manifest came back.
      expect(greeting.startedAt.getTime()).toBeLessThan(answered - 200);
    } finally {
      await copier.close();
      await slow.close();
      await target.close();
    }
  });
});
