import { useDockerRegistry, useHtpasswdRegistry, useTokenAuthRegistry } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import {
  client,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  type RawResponse,
  sha256,
  sha512,
  withQuery,
} from "./support/http.js";
import { useRegistry } from "./support/registries.js";

// The same raw-HTTP cases run against this registry and Debian's docker-registry
// (distribution 2.8): where both are expected to behave alike, what each answers must match.
// Where they differ on purpose, the second block pins down both behaviours (README lists them).

type Api = ReturnType<typeof client>;

interface Observed {
  status: number;
  codes?: string[];
  headers?: Record<string, string | undefined>;
  body?: string;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** What a response says, normalised: Locations as paths without the session id or state. */
function observe(res: RawResponse, headers: string[] = [], body = false): Observed {
  const picked: Record<string, string | undefined> = {};
  for (const name of headers) {
    let value = res.headers[name] as string | undefined;
    if (value !== undefined && name === "location") {
      value = new URL(value, "http://x").pathname.replace(UUID, "<uuid>");
    }
    picked[name] = value;
  }
  const observed: Observed = { status: res.status };
  if (headers.length > 0) observed.headers = picked;
  const type = String(res.headers["content-type"] ?? "");
  if (res.status >= 400 && type.startsWith("application/json")) observed.codes = res.codes();
  if (body) observed.body = res.text;
  return observed;
}

const BLOB_HEADERS = [
  "content-length",
  "content-type",
  "docker-content-digest",
  "etag",
  "accept-ranges",
];
const MANIFEST_HEADERS = ["content-length", "content-type", "docker-content-digest", "etag"];

async function image(api: Api, repo: string, tag: string, seed: string) {
  return api.pushImage(repo, tag, seed);
}

type Case = [name: string, status: number, run: (api: Api) => Promise<Observed>];

const SAME: Case[] = [
  [
    "ping",
    200,
    async (api) => observe(await api.call("/v2/"), ["docker-distribution-api-version"], true),
  ],
  [
    "blob HEAD and GET after a POST + PUT upload",
    200,
    async (api) => {
      const { digest } = await api.pushBlob("conf/blob", "conformance blob");
      const head = observe(
        await api.call(`/v2/conf/blob/blobs/${digest}`, { method: "HEAD" }),
        BLOB_HEADERS,
      );
      const get = observe(await api.call(`/v2/conf/blob/blobs/${digest}`), BLOB_HEADERS, true);
      expect(head.headers).toEqual(get.headers);
      return get;
    },
  ],
  ...(["bytes=2-5", "bytes=5-", "bytes=-3", "bytes=4-100"].map(
    (range): Case => [
      `blob GET with Range ${range}`,
      206,
      async (api) => {
        const { digest } = await api.pushBlob("conf/range", "0123456789");
        return observe(
          await api.call(`/v2/conf/range/blobs/${digest}`, { headers: { Range: range } }),
          ["content-range", "content-length"],
          true,
        );
      },
    ],
  ) as Case[]),
  [
    "missing blob",
    404,
    async (api) => observe(await api.call(`/v2/conf/blob/blobs/${sha256("absent")}`)),
  ],
  ...(["sha256:abcd", "md5:0123"].map(
    (digest): Case => [
      `blob with malformed digest ${digest}`,
      400,
      async (api) => observe(await api.call(`/v2/conf/blob/blobs/${digest}`)),
    ],
  ) as Case[]),
  [
    "upload session start",
    202,
    async (api) =>
      observe(await api.call("/v2/conf/up/blobs/uploads/", { method: "POST" }), [
        "location",
        "range",
        "content-length",
      ]),
  ],
  [
    "streamed PATCH, status, then PUT",
    201,
    async (api) => {
      let location = await api.startUpload("conf/stream");
      const patch = await api.call(location, { method: "PATCH", body: "streamed bytes" });
      expect(observe(patch, ["range", "location"])).toEqual({
        status: 202,
        headers: { range: "0-13", location: "/v2/conf/stream/blobs/uploads/<uuid>" },
      });
      location = api.url(String(patch.headers.location));
      const status = await api.call(location);
      expect(observe(status, ["range", "location"])).toEqual({
        status: 204,
        headers: { range: "0-13", location: "/v2/conf/stream/blobs/uploads/<uuid>" },
      });
      expect(status.headers["docker-upload-uuid"]).toMatch(UUID);
      location = api.url(String(status.headers.location));
      const put = await api.call(withQuery(location, `digest=${sha256("streamed bytes")}`), {
        method: "PUT",
      });
      const after = await api.call(location);
      expect(observe(after)).toEqual({ status: 404, codes: ["BLOB_UPLOAD_UNKNOWN"] });
      return observe(put, ["location", "docker-content-digest", "content-length"]);
    },
  ],
  [
    "PUT without, with malformed and with the wrong digest",
    400,
    async (api) => {
      const location = await api.startUpload("conf/digest");
      const patch = await api.call(location, { method: "PATCH", body: "content" });
      const next = api.url(String(patch.headers.location));
      const missing = observe(await api.call(next, { method: "PUT" }));
      const malformed = observe(
        await api.call(withQuery(next, "digest=sha256:abc"), { method: "PUT" }),
      );
      const wrong = observe(
        await api.call(withQuery(next, `digest=${sha256("other")}`), { method: "PUT" }),
      );
      expect([missing, malformed]).toEqual([wrong, wrong]);
      // The session survives a wrong digest.
      const right = await api.call(withQuery(next, `digest=${sha256("content")}`), {
        method: "PUT",
      });
      expect(right.status).toBe(201);
      return wrong;
    },
  ],
  [
    "cancel an upload",
    204,
    async (api) => {
      const location = await api.startUpload("conf/cancel");
      const del = observe(await api.call(location, { method: "DELETE" }));
      expect(observe(await api.call(location, { method: "DELETE" }))).toEqual({
        status: 404,
        codes: ["BLOB_UPLOAD_UNKNOWN"],
      });
      expect(observe(await api.call(location))).toEqual({
        status: 404,
        codes: ["BLOB_UPLOAD_UNKNOWN"],
      });
      return del;
    },
  ],
  [
    "mount from a repository that has the blob",
    201,
    async (api) => {
      const { digest } = await api.pushBlob("conf/mount-src", "mountable");
      const res = await api.call(
        `/v2/conf/mount-dst/blobs/uploads/?mount=${digest}&from=conf/mount-src`,
        { method: "POST" },
      );
      expect((await api.call(`/v2/conf/mount-dst/blobs/${digest}`)).text).toBe("mountable");
      return observe(res, ["location", "docker-content-digest"]);
    },
  ],
  ...([
    ["from a repository without it", "&from=conf/mount-none"],
    ["without from", ""],
  ].map(
    ([name, from]): Case => [
      `mount ${name}`,
      202,
      async (api) => {
        const { digest } = await api.pushBlob("conf/mount-src", "mountable");
        return observe(
          await api.call(`/v2/conf/mount-dst2/blobs/uploads/?mount=${digest}${from}`, {
            method: "POST",
          }),
          ["location", "range"],
        );
      },
    ],
  ) as Case[]),
  [
    "blob delete, per repository",
    202,
    async (api) => {
      const { digest } = await api.pushBlob("conf/del-a", "to delete");
      await api.pushBlob("conf/del-b", "to delete");
      const del = observe(await api.call(`/v2/conf/del-a/blobs/${digest}`, { method: "DELETE" }));
      expect((await api.call(`/v2/conf/del-a/blobs/${digest}`, { method: "HEAD" })).status).toBe(
        404,
      );
      expect((await api.call(`/v2/conf/del-b/blobs/${digest}`, { method: "HEAD" })).status).toBe(
        200,
      );
      expect(
        observe(await api.call(`/v2/conf/del-a/blobs/${digest}`, { method: "DELETE" })).codes,
      ).toEqual(["BLOB_UNKNOWN"]);
      return del;
    },
  ],
  [
    "manifest PUT by tag",
    201,
    async (api) => {
      const config = await api.pushBlob("conf/man", '{"os":"linux"}');
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, ...config },
        layers: [],
      });
      return observe(await api.pushManifest("conf/man", "v1", manifest, OCI_MANIFEST), [
        "location",
        "docker-content-digest",
      ]);
    },
  ],
  [
    "manifest GET and HEAD by tag and digest",
    200,
    async (api) => {
      const pushed = await image(api, "conf/man-get", "v1", "get");
      const byTag = observe(
        await api.call("/v2/conf/man-get/manifests/v1", { headers: { Accept: OCI_MANIFEST } }),
        MANIFEST_HEADERS,
        true,
      );
      const byDigest = observe(
        await api.call(`/v2/conf/man-get/manifests/${pushed.digest}`, {
          headers: { Accept: OCI_MANIFEST },
        }),
        MANIFEST_HEADERS,
        true,
      );
      const head = observe(
        await api.call("/v2/conf/man-get/manifests/v1", {
          method: "HEAD",
          headers: { Accept: OCI_MANIFEST },
        }),
        MANIFEST_HEADERS,
      );
      expect(byDigest).toEqual(byTag);
      expect(head.headers).toEqual(byTag.headers);
      expect(byTag.body).toBe(pushed.manifest);
      return byTag;
    },
  ],
  ...([
    ["OCI manifest without Accept", "v1", undefined],
    ["OCI manifest with Accept */*", "v1", "*/*"],
    ["OCI manifest with only the Docker type accepted", "v1", DOCKER_MANIFEST],
    ["OCI manifest by digest without Accept", "digest", undefined],
    ["OCI index without Accept", "index", undefined],
    ["OCI index with only manifests accepted", "index", OCI_MANIFEST],
  ].map(
    ([name, reference, accept]): Case => [
      `content negotiation: ${name}`,
      404,
      async (api) => {
        const pushed = await image(api, "conf/accept", "v1", "accept");
        const index = JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest: pushed.digest, size: pushed.size }],
        });
        await api.pushManifest("conf/accept", "index", index, OCI_INDEX);
        const ref = reference === "digest" ? pushed.digest : (reference as string);
        return observe(
          await api.call(`/v2/conf/accept/manifests/${ref}`, {
            headers: accept ? { Accept: accept } : {},
          }),
        );
      },
    ],
  ) as Case[]),
  [
    "content negotiation: Docker manifest by digest without Accept",
    200,
    async (api) => {
      const pushed = await image(api, "conf/docker", "oci", "docker");
      const docker = JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { mediaType: "application/vnd.docker.container.image.v1+json", ...pushed.config },
        layers: [
          { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...pushed.layer },
        ],
      });
      await api.pushManifest("conf/docker", "docker", docker, DOCKER_MANIFEST);
      return observe(
        await api.call(`/v2/conf/docker/manifests/${sha256(docker)}`),
        MANIFEST_HEADERS,
        true,
      );
    },
  ],
  ...(
    [
      ["Content-Type contradicting mediaType", (m: string) => [m, DOCKER_MANIFEST]],
      ["a body that is not JSON", () => ["{not json", OCI_MANIFEST]],
      [
        "a config of the wrong type",
        () => [
          JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: 5, layers: [] }),
          OCI_MANIFEST,
        ],
      ],
      ["an unknown media type", (m: string) => [m, "application/vnd.example.unknown+json"]],
    ] as [string, (manifest: string) => [string, string]][]
  ).map(
    ([name, make]): Case => [
      `manifest PUT with ${name}`,
      400,
      async (api) => {
        const pushed = await image(api, "conf/invalid", "base", "invalid");
        const [body, type] = make(pushed.manifest);
        return observe(await api.pushManifest("conf/invalid", "bad", body, type));
      },
    ],
  ),
  [
    "manifest PUT by a digest that does not match",
    400,
    async (api) => {
      const pushed = await image(api, "conf/bydigest", "base", "bydigest");
      return observe(
        await api.pushManifest("conf/bydigest", sha256("not it"), pushed.manifest, OCI_MANIFEST),
      );
    },
  ],
  ...(
    [
      ["layer", "layers"],
      ["config", "config"],
    ] as const
  ).map(
    ([name, field]): Case => [
      `manifest PUT with a missing ${name}`,
      400,
      async (api) => {
        const config = await api.pushBlob("conf/refs", "{}");
        const absent = {
          mediaType: field === "config" ? OCI_CONFIG : OCI_LAYER,
          digest: sha256(`absent ${name}`),
          size: 8 + name.length,
        };
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: field === "config" ? absent : { mediaType: OCI_CONFIG, ...config },
          layers: field === "layers" ? [absent] : [],
        });
        return observe(await api.pushManifest("conf/refs", "x", manifest, OCI_MANIFEST));
      },
    ],
  ),
  [
    "index PUT with a missing child",
    400,
    async (api) => {
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: sha256("no child"), size: 8 }],
      });
      return observe(await api.pushManifest("conf/refs", "idx", index, OCI_INDEX));
    },
  ],
  ...([
    ["an unknown tag", "conf/man-get", "nope"],
    ["an unknown repository", "conf/never", "latest"],
  ].map(
    ([name, repo, ref]): Case => [
      `manifest GET of ${name}`,
      404,
      async (api) =>
        observe(
          await api.call(`/v2/${repo}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } }),
        ),
    ],
  ) as Case[]),
  [
    "manifest DELETE by digest removes its tags",
    202,
    async (api) => {
      const pushed = await image(api, "conf/mdel", "one", "mdel");
      await api.pushManifest("conf/mdel", "two", pushed.manifest, OCI_MANIFEST);
      const del = observe(
        await api.call(`/v2/conf/mdel/manifests/${pushed.digest}`, { method: "DELETE" }),
      );
      for (const ref of ["one", "two", pushed.digest]) {
        expect(
          observe(
            await api.call(`/v2/conf/mdel/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } }),
          ).status,
        ).toBe(404);
      }
      expect(
        observe(await api.call(`/v2/conf/mdel/manifests/${pushed.digest}`, { method: "DELETE" })),
      ).toEqual({
        status: 404,
        codes: ["MANIFEST_UNKNOWN"],
      });
      return del;
    },
  ],
  [
    "tags of an unknown repository",
    404,
    async (api) => observe(await api.call("/v2/conf/unknown/tags/list")),
  ],
  [
    "tags of a repository, as a set",
    200,
    async (api) => {
      const pushed = await image(api, "conf/tags", "b", "tags");
      for (const tag of ["a", "c"])
        await api.pushManifest("conf/tags", tag, pushed.manifest, OCI_MANIFEST);
      const res = await api.call("/v2/conf/tags/tags/list");
      const body = res.json<{ name: string; tags: string[] }>();
      return {
        status: res.status,
        body: JSON.stringify({ name: body.name, tags: [...body.tags].sort() }),
      };
    },
  ],
  [
    "catalog pages with n, last and Link",
    200,
    async (api) => {
      await image(api, "conf/cat-a", "t", "cat");
      await image(api, "conf/cat-b", "t", "cat");
      const all = (await api.call("/v2/_catalog?n=1000")).json<{ repositories: string[] }>()
        .repositories;
      expect([...all].sort()).toEqual(all);
      const first = observe(await api.call("/v2/_catalog?n=1"), ["link"], true);
      const after = observe(await api.call("/v2/_catalog?n=1&last=conf/cat-a"), ["link"], true);
      expect(first.headers?.link).toBe(
        `</v2/_catalog?last=${encodeURIComponent(all[0] ?? "")}&n=1>; rel="next"`,
      );
      return after;
    },
  ],
  [
    "catalog with too large a page",
    400,
    async (api) => observe(await api.call("/v2/_catalog?n=100000")),
  ],
];

describe("the same answers as distribution", () => {
  const ours = useRegistry("memory");
  const theirs = useDockerRegistry();

  it.each(SAME)("%s", async (_, status, run) => {
    const mine = await run(client(ours().url));
    const real = await run(client(theirs().url));
    expect(real.status, "distribution's status").toBe(status);
    expect(mine).toEqual(real);
  });
});

describe("deliberate differences from distribution", () => {
  const ours = useRegistry("memory");
  const theirs = useDockerRegistry();
  const both = async (run: (api: Api) => Promise<Observed>) => ({
    mine: await run(client(ours().url)),
    real: await run(client(theirs().url)),
  });

  it("deletes tags (distribution 2.8 refuses)", async () => {
    const { mine, real } = await both(async (api) => {
      await image(api, "diff/tagdel", "v1", "tagdel");
      return observe(await api.call("/v2/diff/tagdel/manifests/v1", { method: "DELETE" }));
    });
    expect(real).toEqual({ status: 400, codes: ["DIGEST_INVALID"] });
    expect(mine).toEqual({ status: 202 });
  });

  it("sorts and pages tag lists (distribution 2.8 ignores n and last)", async () => {
    const { mine, real } = await both(async (api) => {
      const pushed = await image(api, "diff/tagpage", "c", "page");
      for (const tag of ["a", "b"])
        await api.pushManifest("diff/tagpage", tag, pushed.manifest, OCI_MANIFEST);
      return observe(await api.call("/v2/diff/tagpage/tags/list?n=1"), ["link"], true);
    });
    expect(JSON.parse(real.body ?? "").tags).toHaveLength(3);
    expect(mine).toEqual({
      status: 200,
      headers: { link: '</v2/diff/tagpage/tags/list?last=a&n=1>; rel="next"' },
      body: `${JSON.stringify({ name: "diff/tagpage", tags: ["a"] })}\n`,
    });
  });

  it("answers 416 to an out-of-order chunk (distribution 2.8 ignores Content-Range)", async () => {
    const { mine, real } = await both(async (api) => {
      const location = await api.startUpload("diff/order");
      const first = await api.call(location, {
        method: "PATCH",
        body: "abc",
        headers: { "Content-Range": "0-2" },
      });
      return observe(
        await api.call(api.url(String(first.headers.location)), {
          method: "PATCH",
          body: "xyz",
          headers: { "Content-Range": "7-9" },
        }),
        ["range"],
      );
    });
    expect(real).toEqual({ status: 202, headers: { range: "0-5" } });
    expect(mine).toEqual({ status: 416, codes: ["RANGE_INVALID"], headers: { range: "0-2" } });
  });

  it("finishes a single POST ?digest= upload (distribution 2.8 starts a session)", async () => {
    const { mine, real } = await both(async (api) =>
      observe(
        await api.call(`/v2/diff/mono/blobs/uploads/?digest=${sha256("single post")}`, {
          method: "POST",
          body: "single post",
        }),
      ),
    );
    expect(real.status).toBe(202);
    expect(mine.status).toBe(201);
  });

  it("keeps sha512 digests (distribution 2.8 answers with sha256)", async () => {
    const { mine, real } = await both(async (api) => {
      const location = await api.startUpload("diff/sha512");
      return observe(
        await api.call(withQuery(location, `digest=${sha512("five twelve")}`), {
          method: "PUT",
          body: "five twelve",
        }),
        ["docker-content-digest"],
      );
    });
    expect(real.headers?.["docker-content-digest"]).toBe(sha256("five twelve"));
    expect(mine.headers?.["docker-content-digest"]).toBe(sha512("five twelve"));
  });

  it("serves the referrers API (distribution 2.8 has none)", async () => {
    const { mine, real } = await both(async (api) =>
      observe(await api.call(`/v2/diff/ref/referrers/${sha256("x")}`)),
    );
    expect(real.status).toBe(404);
    expect(mine.status).toBe(200);
  });

  it("answers NAME_INVALID for invalid names (distribution 2.8 answers a plain 404 or 500)", async () => {
    const { mine, real } = await both(async (api) =>
      observe(await api.call("/v2/Upper/tags/list")),
    );
    expect(real).toEqual({ status: 404 });
    expect(mine).toEqual({ status: 400, codes: ["NAME_INVALID"] });
  });

  it("answers DIGEST_INVALID for a malformed manifest digest (distribution 2.8 answers 500)", async () => {
    const { mine, real } = await both(async (api) =>
      observe(await api.call("/v2/diff/x/manifests/sha256:zzz")),
    );
    expect(real).toEqual({ status: 500, codes: ["UNKNOWN"] });
    expect(mine).toEqual({ status: 400, codes: ["DIGEST_INVALID"] });
  });

  it("answers a malformed Range with a well-formed 416 (distribution 2.8 sends a body that contradicts its Content-Length)", async () => {
    for (const range of ["bytes=5-2", "items=0-1"]) {
      const run = async (api: Api) => {
        const { digest } = await api.pushBlob("diff/range", "0123456789");
        return api.call(`/v2/diff/range/blobs/${digest}`, { headers: { Range: range } }).then(
          (res) => observe(res, ["content-range"]),
          (error: Error) => ({ status: 0, body: error.message }),
        );
      };
      const real = await run(client(theirs().url));
      expect(real.status === 0 || real.status === 416).toBe(true);
      expect(await run(client(ours().url))).toEqual({
        status: 416,
        codes: ["RANGE_INVALID"],
        headers: { "content-range": "bytes */10" },
      });
    }
  });

  it("serves a multi-range request whole (distribution 2.8 answers multipart/byteranges)", async () => {
    const { mine, real } = await both(async (api) => {
      const { digest } = await api.pushBlob("diff/multirange", "0123456789");
      return observe(
        await api.call(`/v2/diff/multirange/blobs/${digest}`, {
          headers: { Range: "bytes=0-1,4-5" },
        }),
      );
    });
    expect(real.status).toBe(206);
    expect(mine.status).toBe(200);
  });
});

describe("basic auth, like distribution's htpasswd", () => {
  const ours = useRegistry("memory", {
    auth: { type: "basic", users: { alice: "wonderland" }, realm: "Registry Realm" },
  });
  const theirs = useHtpasswdRegistry({ users: { alice: "wonderland" }, realm: "Registry Realm" });
  const authorization = (password: string) => ({
    Authorization: `Basic ${Buffer.from(`alice:${password}`).toString("base64")}`,
  });

  const cases: Case[] = [
    [
      "ping without credentials",
      401,
      async (api) => observe(await api.call("/v2/"), ["www-authenticate"]),
    ],
    [
      "tags without credentials",
      401,
      async (api) => observe(await api.call("/v2/conf/tags/tags/list"), ["www-authenticate"]),
    ],
    [
      "ping with a wrong password",
      401,
      async (api) =>
        observe(await api.call("/v2/", { headers: authorization("nope") }), ["www-authenticate"]),
    ],
    [
      "ping with the right password",
      200,
      async (api) => observe(await api.call("/v2/", { headers: authorization("wonderland") })),
    ],
    [
      "a push with the right password",
      200,
      async (api) => {
        const authed = client(api.url("/").replace(/\/$/, ""), {
          headers: authorization("wonderland"),
        });
        await authed.pushImage("conf/authed", "v1");
        return observe(await authed.call("/v2/conf/authed/tags/list"), [], true);
      },
    ],
  ];

  it.each(cases)("%s", async (_, status, run) => {
    const mine = await run(client(ours().url));
    const real = await run(client(theirs().url));
    expect(real.status).toBe(status);
    expect(mine).toEqual(real);
  });
});

describe("bearer auth, like distribution with a token server", () => {
  const ours = useRegistry("memory", { auth: { type: "bearer", users: { alice: "wonderland" } } });
  const theirs = useTokenAuthRegistry({
    users: { alice: { password: "wonderland", access: [{ name: "*", actions: ["*"] }] } },
  });

  /**
   * The challenge with its realm (which differs by design: each names its own endpoint) replaced,
   * and the scope's actions sorted: distribution lists them in random order.
   */
  const challenge = async (api: Api, path: string, method = "GET") => {
    const res = await api.call(path, { method });
    const header = String(res.headers["www-authenticate"])
      .replace(/realm="[^"]*"/, 'realm="<realm>"')
      .replace(/scope="([^"]*)"/, (_, scope: string) => {
        const [type, name, actions = ""] = scope.split(":");
        return `scope="${type}:${name}:${actions.split(",").sort().join(",")}"`;
      });
    return { status: res.status, codes: res.codes(), header };
  };
  /** Fetches a token from the challenge's realm, as a client does, and pushes with it. */
  const pushWithToken = async (api: Api) => {
    const res = await api.call("/v2/conf/bearer/blobs/uploads/", { method: "POST" });
    const header = String(res.headers["www-authenticate"]);
    const field = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(header)?.[1] ?? "";
    const query = new URLSearchParams({ service: field("service"), scope: field("scope") });
    const token = await client(field("realm")).call(`?${query}`, {
      headers: { Authorization: `Basic ${Buffer.from("alice:wonderland").toString("base64")}` },
    });
    const { token: value } = token.json<{ token: string }>();
    const authed = client(api.url("/").replace(/\/$/, ""), {
      headers: { Authorization: `Bearer ${value}` },
    });
    const { digest } = await authed.pushBlob("conf/bearer", "with a token");
    return observe(await authed.call(`/v2/conf/bearer/blobs/${digest}`), [], true);
  };

  const cases: [string, (api: Api) => Promise<unknown>][] = [
    ["ping without a token", (api) => challenge(api, "/v2/")],
    ["a pull without a token", (api) => challenge(api, "/v2/conf/bearer/tags/list")],
    ["a push without a token", (api) => challenge(api, "/v2/conf/bearer/blobs/uploads/", "POST")],
    [
      "a delete without a token",
      (api) => challenge(api, `/v2/conf/bearer/blobs/${sha256("x")}`, "DELETE"),
    ],
    ["the catalog without a token", (api) => challenge(api, "/v2/_catalog")],
    ["a push with a token from the realm", pushWithToken],
  ];

  it.each(cases)("%s", async (_, run) => {
    const mine = await run(client(ours().url));
    const real = await run(client(theirs().registry.url));
    expect(mine).toEqual(real);
  });
});
