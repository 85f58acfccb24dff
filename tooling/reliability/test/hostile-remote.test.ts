import { createHash } from "node:crypto";
import { join } from "node:path";
import { basic } from "@hoist/authn";
import { type RunningHttpOrigin, startHttpOrigin } from "@hoist/harness";
import { createLayout } from "@hoist/layout";
import {
  appendManifests,
  emptyIndex,
  type Image,
  type ImageIndex,
  MediaType,
  randomImage,
  randomIndex,
} from "@hoist/oci";
import {
  type FaultContext,
  type RegistryResponse,
  type RunningRegistry,
  startRegistry,
} from "@hoist/registry";
import { createPuller, createPusher, type Puller, type Pusher } from "@hoist/remote";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { suiteSize } from "../src/index.js";
import { type HostileCase, hostileRun } from "./hostile-support.js";
import { expectClean, tempDir, useTally } from "./support.js";

// A hostile registry as @hoist/remote meets it, played by @hoist/registry with a fault hook
// that rewrites its answers: blobs whose bytes do not match their digest, manifests over the
// size cap or not matching what was asked for, index cycles and absurd nesting, pagination
// loops, redirect loops, upload locations on another host. Each case: a typed error (or a
// verified success where the lie is harmless) within the bound, nothing written outside the
// target, and the credentials never sent to another host.

const BOUND_MS = 60_000;
const size = suiteSize();
const tally = useTally("hostile: registry (remote: lies, loops, caps, other hosts)", {
  boundMs: BOUND_MS,
});
const PASSWORD = "hostile-remote-password-7f3a";
const auth = basic("alice", PASSWORD);

type Hook = (
  context: FaultContext,
) => Promise<RegistryResponse | undefined> | RegistryResponse | undefined;
let hook: Hook | undefined;
let registry: RunningRegistry;
let clean: RunningRegistry;
let elsewhere: RunningHttpOrigin;
let sandbox: string;
let puller: Puller;
let pusher: Pusher;
const seeded: { image?: Image; index?: ImageIndex; imageDigest?: string; indexDigest?: string } =
  {};

const sha256 = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

beforeAll(async () => {
  registry = await startRegistry({
    auth: { type: "basic", users: { alice: PASSWORD } },
    faults: { rules: [{ name: "hostile", respond: (context) => hook?.(context) }] },
  });
  clean = await startRegistry({ auth: { type: "basic", users: { alice: PASSWORD } } });
  elsewhere = await startHttpOrigin({
    handler: (_request, res) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("not a registry");
    },
  });
  puller = createPuller({ auth, retry: { attempts: 2, initialDelayMs: 10 } });
  pusher = createPusher({ auth, retry: { attempts: 2, initialDelayMs: 10 } });
  seeded.image = randomImage({ layers: 2, layerSize: 50_000, seed: "hostile-remote" });
  seeded.index = randomIndex({
    images: 2,
    layers: 1,
    seed: "hostile-remote-index",
    platforms: [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64" },
    ],
  });
  seeded.imageDigest = String(
    (await pusher.write(`${registry.host}/lab/app:v1`, seeded.image)).digest,
  );
  seeded.indexDigest = String(
    (await pusher.writeIndex(`${registry.host}/lab/multi:v1`, seeded.index)).digest,
  );
  for (let i = 0; i < 5; i++) await pusher.tag(`${registry.host}/lab/app:v1`, `t${i}`);
});

afterAll(async () => {
  await puller?.close();
  await pusher?.close();
  await registry?.close();
  await clean?.close();
  await elsewhere?.stop();
});

beforeEach(async () => {
  hook = undefined;
  sandbox = await tempDir();
  elsewhere.clearRequests();
});

/** Runs one case with `lie` installed, then checks that no credential reached another host. */
async function hostile(
  name: string,
  lie: Hook,
  options: HostileCase,
  body: (signal: AbortSignal) => Promise<unknown>,
): Promise<void> {
  hook = lie;
  try {
    await hostileRun(tally, name, sandbox, options, body);
  } finally {
    hook = undefined;
  }
  for (const request of elsewhere.requests()) {
    if (request.headers.authorization !== undefined) {
      tally.leak(
        `${name}: an Authorization header reached another host (${request.method} ${request.path})`,
      );
    }
  }
}

/** Reads every layer of an image to its end (where verification happens). */
async function readAll(image: Image, signal: AbortSignal): Promise<void> {
  for (const layer of await image.layers({ signal })) {
    for await (const _ of await layer.compressed({ signal })) {
      // verified as it streams
    }
  }
}

const pullImage = (reference: string) => async (signal: AbortSignal) =>
  readAll(await puller.image(`${registry.host}/${reference}`, { signal }), signal);
const pullToLayout = (reference: string) => async (signal: AbortSignal) => {
  const layout = await createLayout(join(sandbox, "layout"));
  await layout.appendImage(await puller.image(`${registry.host}/${reference}`, { signal }), {
    refName: "pulled",
    signal,
  });
};
const copyOut = (reference: string) => async (signal: AbortSignal) => {
  await pusher.copy(`${registry.host}/${reference}`, `${clean.host}/copied/${reference}`, {
    signal,
  });
};

/** The real answer with its body replaced. */
const alter =
  (
    change: (body: Buffer, context: FaultContext) => Buffer | string,
    when: (c: FaultContext) => boolean,
  ) =>
  async (context: FaultContext): Promise<RegistryResponse | undefined> => {
    if (!when(context)) return undefined;
    const real = await context.forward();
    const body = Buffer.from(change(real.body, context));
    return { ...real, headers: { ...real.headers, "Content-Length": body.length }, body };
  };
const isBlobGet = (c: FaultContext) => c.route.kind === "blob" && c.request.method === "GET";
const isManifestGet = (c: FaultContext) =>
  c.route.kind === "manifest" && c.request.method === "GET";

describe("hostile registry: content that lies", () => {
  it.each([
    ["flipped bytes", (b: Buffer) => Buffer.from(b.map((x, i) => (i === 100 ? x ^ 0xff : x)))],
    ["all zeros of the right length", (b: Buffer) => Buffer.alloc(b.length)],
    ["one byte short", (b: Buffer) => b.subarray(0, b.length - 1)],
    ["one byte too many", (b: Buffer) => Buffer.concat([b, Buffer.from("x")])],
    ["nothing", () => Buffer.alloc(0)],
  ])("blob bytes that do not match their digest: %s", async (what, change) => {
    const lie = alter(change, isBlobGet);
    for (const [op, run] of [
      ["pull", pullImage("lab/app:v1")],
      ["pull into a layout", pullToLayout("lab/app:v1")],
      ["copy", copyOut("lab/app:v1")],
    ] as const) {
      await hostile(`blob ${what}: ${op}`, lie, { expect: "typed", allowed: ["layout"] }, run);
    }
    // Nothing reached the clean registry under that tag.
    const copied = await createPuller({ auth })
      .get(`${clean.host}/copied/lab/app:v1`)
      .then(
        () => "present",
        () => "absent",
      );
    if (copied === "present") tally.corrupt(`blob ${what}: a copy of lying blobs was tagged`);
    expectClean(tally);
  });

  const layerDigest = (digest: string) => async (b: Buffer) => {
    const manifest = JSON.parse(b.toString());
    manifest.layers[0].digest = digest;
    return Buffer.from(JSON.stringify(manifest));
  };
  it.each([
    [
      "another manifest's bytes",
      async () => Buffer.from(await (seeded.index as ImageIndex).rawManifest()),
    ],
    [
      "a manifest with one field changed",
      async (b: Buffer) =>
        Buffer.from(b.toString().replace('"schemaVersion":2', '"schemaVersion": 2')),
    ],
    [
      "5 MiB of manifest",
      async () => Buffer.from(`{"schemaVersion":2,"pad":"${"p".repeat(5 * 1024 * 1024)}"}`),
    ],
    ["a manifest naming a layer sha256:../../x", layerDigest("sha256:../../x")],
    ["a manifest naming a layer ../../../outside", layerDigest("../../../outside")],
  ])("a manifest that is %s", async (what, change) => {
    const byDigest = `lab/app@${seeded.imageDigest}`;
    // By tag, the liar also drops Docker-Content-Digest, so nothing but the bytes says what they are.
    const lie: Hook = async (context) => {
      if (!isManifestGet(context)) return undefined;
      const real = await context.forward();
      const body = await change(real.body);
      const { "Docker-Content-Digest": _dropped, ...headers } = real.headers;
      return { ...real, headers: { ...headers, "Content-Length": body.length }, body };
    };
    await hostile(
      `manifest ${what}: pull by digest`,
      lie,
      { expect: "typed" },
      pullImage(byDigest),
    );
    await hostile(
      `manifest ${what}: pull by tag into a layout`,
      lie,
      {
        expect: what.startsWith("a manifest with one field") ? "either" : "typed",
        allowed: ["layout"],
      },
      pullToLayout("lab/app:v1"),
    );
    expectClean(tally);
  });

  it("a tag whose Docker-Content-Digest names other content", async () => {
    const lie: Hook = async (context) => {
      if (context.route.kind !== "manifest") return undefined;
      const real = await context.forward();
      return {
        ...real,
        headers: { ...real.headers, "Docker-Content-Digest": `sha256:${"e".repeat(64)}` },
      };
    };
    await hostile(
      "tag with a lying Docker-Content-Digest",
      lie,
      { expect: "typed" },
      pullImage("lab/app:v1"),
    );
    expectClean(tally);
  });
});

describe("hostile registry: cycles and nesting", () => {
  it("an index whose child is itself (a cycle only a liar can serve)", async () => {
    // By tag, the registry serves an index naming child X; asked for X, it serves that index again.
    const child = `sha256:${"c".repeat(64)}`;
    const cyclic = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OCI_INDEX,
        manifests: [{ mediaType: MediaType.OCI_INDEX, size: 300, digest: child }],
      }),
    );
    const lie: Hook = (context) => {
      if (context.route.kind !== "manifest") return undefined;
      return {
        status: 200,
        headers: { "Content-Type": MediaType.OCI_INDEX, "Content-Length": cyclic.length },
        body: context.request.method === "HEAD" ? undefined : cyclic,
      };
    };
    await hostile(
      "self-containing index: image()",
      lie,
      { expect: "typed" },
      pullImage("lab/cycle:v1"),
    );
    await hostile("self-containing index: copy", lie, { expect: "typed" }, copyOut("lab/cycle:v1"));
    await hostile(
      "self-containing index: into a layout",
      lie,
      { expect: "typed", allowed: ["layout"] },
      async (signal) => {
        const layout = await createLayout(join(sandbox, "layout"));
        await layout.appendIndex(await puller.index(`${registry.host}/lab/cycle:v1`, { signal }), {
          signal,
        });
      },
    );
    expectClean(tally);
  });

  it("absurd nesting: a real index chain hundreds of levels deep", async () => {
    const depth = size.full ? 1000 : 100;
    const leaf = randomImage({
      layers: 1,
      seed: "deep-leaf",
      platform: { os: "linux", architecture: "arm64" },
    });
    let index: ImageIndex = appendManifests(emptyIndex(), [
      { add: leaf, descriptor: { platform: { os: "linux", architecture: "arm64" } } },
    ]);
    for (let level = 1; level < depth; level++) index = appendManifests(emptyIndex(), [index]);
    await hostile(
      `push an index ${depth} deep`,
      async () => undefined,
      { expect: "either" },
      async (signal) => {
        await pusher.writeIndex(`${registry.host}/lab/deep:v1`, index, { signal });
      },
    );
    await hostile(
      `image() through ${depth} levels`,
      async () => undefined,
      { expect: "either" },
      async (signal) => {
        await readAll(
          await puller.image(`${registry.host}/lab/deep:v1`, { platform: "linux/arm64", signal }),
          signal,
        );
      },
    );
    await hostile(
      `copy ${depth} levels`,
      async () => undefined,
      { expect: "either" },
      copyOut("lab/deep:v1"),
    );
    await hostile(
      `a layout from ${depth} levels`,
      async () => undefined,
      { expect: "either", allowed: ["layout"] },
      async (signal) => {
        const layout = await createLayout(join(sandbox, "layout"));
        await layout.appendIndex(await puller.index(`${registry.host}/lab/deep:v1`, { signal }), {
          signal,
        });
      },
    );
    expectClean(tally);
  });
});

describe("hostile registry: loops and other hosts", () => {
  const linkPage = (tags: string[], link: string | undefined): RegistryResponse => {
    const body = Buffer.from(JSON.stringify({ name: "lab/app", tags }));
    return {
      status: 200,
      headers: {
        "Content-Type": "application/json",
        "Content-Length": body.length,
        ...(link ? { Link: link } : {}),
      },
      body,
    };
  };

  it.each([
    [
      "a page linking to itself",
      (url: URL) => linkPage(["a"], `<${url.pathname}${url.search}>; rel="next"`),
    ],
    [
      "two pages linking to each other",
      (url: URL) =>
        url.searchParams.get("last") === "b"
          ? linkPage(["c"], `</v2/lab/app/tags/list?n=1&last=a>; rel="next"`)
          : linkPage(["b"], `</v2/lab/app/tags/list?n=1&last=b>; rel="next"`),
    ],
    [
      "endless pages repeating the same tag",
      (url: URL) =>
        linkPage(
          ["same"],
          `</v2/lab/app/tags/list?last=${Number(url.searchParams.get("last") ?? 0) + 1}>; rel="next"`,
        ),
    ],
    [
      "a link to another host",
      () => linkPage(["a"], `<${elsewhere.url}/v2/lab/app/tags/list?last=a>; rel="next"`),
    ],
    ["a malformed link", () => linkPage(["a"], "<unterminated; rel=next")],
    ["a link to file:///etc/passwd", () => linkPage(["a"], '<file:///etc/passwd>; rel="next"')],
  ])("tag pagination with %s", async (what, page) => {
    const lie: Hook = (context) => (context.route.kind === "tags" ? page(context.url) : undefined);
    await hostile(`pagination: ${what}`, lie, { expect: "typed" }, async (signal) => {
      await puller.list(`${registry.host}/lab/app`, { signal });
    });
    expectClean(tally);
  });

  it("catalog pagination looping", async () => {
    const lie: Hook = (context) => {
      if (context.route.kind !== "catalog") return undefined;
      const body = Buffer.from(JSON.stringify({ repositories: ["lab/app"] }));
      return {
        status: 200,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": body.length,
          Link: '</v2/_catalog?n=1&last=x>; rel="next"',
        },
        body,
      };
    };
    await hostile("catalog pagination loop", lie, { expect: "typed" }, async (signal) => {
      await puller.catalog(registry.host, { signal });
    });
    expectClean(tally);
  });

  it.each([
    ["to itself", (url: URL) => url.pathname],
    ["to another host", (url: URL) => `${elsewhere.url}${url.pathname}`],
    ["to file:///etc/passwd", () => "file:///etc/passwd"],
  ])("blob downloads redirected %s", async (what, location) => {
    const lie: Hook = (context) =>
      isBlobGet(context)
        ? { status: 307, headers: { Location: location(context.url), "Content-Length": 0 } }
        : undefined;
    await hostile(`blob redirect ${what}`, lie, { expect: "typed" }, pullImage("lab/app:v1"));
    expectClean(tally);
  });

  it.each([
    ["another host", () => `${elsewhere.url}/upload/here`],
    [
      "another host with the session's query",
      () => `${elsewhere.url}/v2/lab/up/blobs/uploads/x?_state=abc`,
    ],
    ["a file: URL", () => "file:///tmp/upload"],
    ["a javascript: URL", () => "javascript:alert(1)"],
    ["nowhere", () => ""],
  ])("an upload Location pointing at %s", async (what, location) => {
    const lie: Hook = (context) =>
      context.route.kind === "upload-start" && context.request.method === "POST"
        ? {
            status: 202,
            headers: {
              Location: location(),
              "Content-Length": 0,
              "Docker-Upload-UUID": "x",
              Range: "0-0",
            },
          }
        : undefined;
    await hostile(`upload Location ${what}`, lie, { expect: "typed" }, async (signal) => {
      await pusher.write(
        `${registry.host}/lab/up-${what.toLowerCase().replace(/[^a-z0-9]+/g, "-")}:v1`,
        randomImage({ seed: what, layers: 1 }),
        {
          signal,
        },
      );
    });
    expectClean(tally);
  });

  it("a chunked upload answered with a garbage or regressing Range", async () => {
    for (const range of ["garbage", "0-", "5-2", `0-${Number.MAX_SAFE_INTEGER}`, "-1--1"]) {
      const lie: Hook = async (context) => {
        if (context.route.kind !== "upload" || context.request.method !== "PATCH") return undefined;
        const real = await context.forward();
        return { ...real, headers: { ...real.headers, Range: range } };
      };
      await hostile(`PATCH answered Range: ${range}`, lie, { expect: "either" }, async (signal) => {
        const pushed = randomImage({ seed: `range-${range}`, layers: 1, layerSize: 20_000 });
        const reference = `${registry.host}/lab/range:${createHash("md5").update(range).digest("hex")}`;
        const { digest } = await pusher.write(reference, pushed, { signal, chunkSize: 4096 });
        // A push that claims success must have put exactly this image there.
        const back = await puller.get(reference, { signal });
        if (
          sha256(back.manifest) !== String(digest) ||
          String(digest) !== String(await pushed.digest())
        ) {
          tally.corrupt(`PATCH Range ${range}: the registry holds other content than was pushed`);
        }
        await readAll(await puller.image(reference, { signal }), signal);
      });
    }
    expect(tally.result.runs).toBeGreaterThan(0);
    expectClean(tally);
  });
});
