import { Readable } from "node:stream";
import { useDockerRegistry } from "@hoist/harness";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createTransport } from "../src/index.js";
import { digestOf, pushBlob, registryAt } from "./helpers.js";

// Counts evaluations of undici: the factory runs when something first imports it.
const undici = vi.hoisted(() => ({ loads: 0 }));
vi.mock("undici", async (importOriginal) => {
  undici.loads++;
  return importOriginal();
});

describe("undici, loaded only for what the transport's own connections do not carry", () => {
  const registry = useDockerRegistry();
  const transport = createTransport({ proxy: "direct" });
  afterAll(() => transport.close());

  it("pings, pushes, checks and reads a blob without loading it, and loads it for a chunked upload", async () => {
    const session = await transport.session({
      registry: registryAt(registry().host),
      scopes: ["repository:lazy/blobs:pull,push"],
    });
    const bytes = new TextEncoder().encode("no undici needed");
    const digest = await pushBlob(session, "lazy/blobs", bytes);
    const head = await session.request({ method: "HEAD", path: `/v2/lazy/blobs/blobs/${digest}` });
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
    const get = await session.request({ method: "GET", path: `/v2/lazy/blobs/blobs/${digest}` });
    expect(new TextDecoder().decode(await get.bytes())).toBe("no undici needed");
    expect(undici.loads).toBe(0);

    // A stream of unknown length goes out chunked, which only undici sends.
    const started = await session.request({
      method: "POST",
      path: "/v2/lazy/blobs/blobs/uploads/",
      expectStatus: [202],
    });
    await started.discard();
    const url = new URL(started.headers.get("location") ?? "", started.url);
    const streamed = new TextEncoder().encode("sent chunked");
    url.searchParams.set("digest", digestOf(streamed));
    const put = await session.request({
      method: "PUT",
      url,
      body: () => Readable.from([streamed]),
      expectStatus: [201],
    });
    await put.discard();
    expect(undici.loads).toBe(1);
  });
});
