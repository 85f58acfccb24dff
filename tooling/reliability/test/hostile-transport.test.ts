import type { ServerResponse } from "node:http";
import { basic } from "@hoist/authn";
import {
  type RecordedRequest,
  type RunningFaultProxy,
  type RunningHttpOrigin,
  startFaultProxy,
  startHttpOrigin,
} from "@hoist/harness";
import { createTransport } from "@hoist/transport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostileRun } from "./hostile-support.js";
import { expectClean, fileTempDir, useTally } from "./support.js";

// A hostile registry as the transport meets it: challenges that are huge, malformed or point
// somewhere unsafe; token endpoints that answer garbage, nothing, or forever; redirect loops;
// stalls; bodies that are not HTTP or never end. Each case: a typed error (or, where the input
// is odd but harmless, a success) within the bound, never a hang.

const BOUND_MS = 30_000;
const tally = useTally("hostile: registry and token endpoint (transport)", { boundMs: BOUND_MS });

type Handler = (request: RecordedRequest, res: ServerResponse) => void;
let origin: RunningHttpOrigin;
let other: RunningHttpOrigin;
let proxy: RunningFaultProxy;
let sandbox: string;

beforeAll(async () => {
  origin = await startHttpOrigin();
  other = await startHttpOrigin();
  proxy = await startFaultProxy({ target: origin.url });
});
afterAll(async () => {
  await proxy?.stop();
  await origin?.stop();
  await other?.stop();
});

const TOKEN = `token-${"x".repeat(40)}`;
const challenge = () => `Bearer realm="${origin.url}/token",service="hostile"`;

/** A registry on `origin` that wants a bearer token; `token` answers the realm. */
function bearerRegistry(token: Handler, registry?: Handler): Handler {
  return (request, res) => {
    if (request.path.startsWith("/token")) return token(request, res);
    if (request.headers.authorization === `Bearer ${TOKEN}` && registry) {
      return registry(request, res);
    }
    if (request.headers.authorization === `Bearer ${TOKEN}`) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"name":"x","tags":["v1"]}');
      return;
    }
    res.writeHead(401, { "www-authenticate": challenge(), "content-type": "application/json" });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  };
}

const send = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
};

/** Runs one request (after a ping) against whatever `handler` makes the registry. */
async function hostile(
  name: string,
  expected: "typed" | "verified" | "either",
  handler: Handler,
  options: { via?: "proxy"; path?: string; read?: "json" | "bytes" } = {},
): Promise<void> {
  origin.setHandler(handler);
  await hostileRun(tally, name, sandbox, { expect: expected }, async (signal) => {
    const transport = createTransport({
      headersTimeoutMs: 2000,
      bodyTimeoutMs: 2000,
      connectTimeoutMs: 2000,
      retry: { attempts: 3, initialDelayMs: 20, maxDelayMs: 100 },
    });
    try {
      const session = await transport.session({
        registry: options.via === "proxy" ? proxy.host : origin.host,
        authenticator: basic("alice", "alice-password"),
        signal,
      });
      const response = await session.request({
        method: "GET",
        path: options.path ?? "/v2/alice/app/tags/list",
        signal,
      });
      if (options.read === "bytes") await response.bytes({ limit: 4 * 1024 * 1024 });
      else await response.json({ limit: 4 * 1024 * 1024 });
    } finally {
      await transport.close();
    }
  });
}

beforeAll(async () => {
  sandbox = await fileTempDir();
});

describe("hostile: WWW-Authenticate", () => {
  it.each([
    ["100 KB long", `Bearer realm="${"r".repeat(100_000)}"`],
    ["with 200 parameters", `Bearer ${Array.from({ length: 200 }, (_, i) => `p${i}=v`).join(",")}`],
    ["with 100 challenges", Array(100).fill('Basic realm="x"').join(", ")],
    ["unterminated", 'Bearer realm="https://auth.example/token'],
    ["without a realm", 'Bearer service="x",scope="y"'],
    ["with an empty realm", 'Bearer realm=""'],
    ["with control characters", 'Bearer realm="a\u0001b"'],
    ["with a file: realm", 'Bearer realm="file:///etc/passwd"'],
    ["with a javascript: realm", 'Bearer realm="javascript:alert(1)"'],
    ["with a realm that is no URL", 'Bearer realm="::::"'],
  ])("a challenge %s", async (what, header) => {
    await hostile(`challenge ${what}`, "typed", (_request, res) => {
      res.writeHead(401, { "www-authenticate": header });
      res.end();
    });
    expectClean(tally);
  });

  it("a 401 loop whose every answer asks for another scope", async () => {
    let n = 0;
    await hostile(
      "401 loop with changing scopes",
      "typed",
      bearerRegistry(
        (_request, res) => send(res, 200, { token: TOKEN }),
        (_request, res) => {
          n++;
          res.writeHead(401, {
            "www-authenticate": `${challenge()},scope="repository:x${n}:pull",error="insufficient_scope"`,
          });
          res.end();
        },
      ),
    );
    expect(n).toBeLessThan(10);
    expectClean(tally);
  });
});

describe("hostile: token endpoints", () => {
  it.each([
    ["without expiry", { token: TOKEN }, "verified"],
    ["with access_token only", { access_token: TOKEN }, "verified"],
    ["with a negative expiry", { token: TOKEN, expires_in: -30 }, "either"],
    ["with a zero expiry", { token: TOKEN, expires_in: 0 }, "either"],
    ["with an absurd expiry", { token: TOKEN, expires_in: 1e300 }, "either"],
    ["with a string expiry", { token: TOKEN, expires_in: "soon" }, "typed"],
    ["with a garbage issued_at", { token: TOKEN, issued_at: "yesterday" }, "either"],
    ["with an empty token", { token: "" }, "typed"],
    ["with a token that is an object", { token: { a: 1 } }, "typed"],
    ["with a token with a newline", { token: "abc\r\nX-Injected: 1" }, "typed"],
    ["that is an array", [TOKEN], "typed"],
    ["that is HTML", "<html>login</html>", "typed"],
    ["that is null", "null", "typed"],
  ] as const)("a token response %s", async (what, body, expected) => {
    await hostile(
      `token response ${what}`,
      expected,
      bearerRegistry((_request, res) => send(res, 200, body)),
    );
    expectClean(tally);
  });

  it("a token response of 10 MB", async () => {
    await hostile(
      "token response of 10 MB",
      "typed",
      bearerRegistry((_request, res) =>
        send(res, 200, `{"token":"${TOKEN}","pad":"${"p".repeat(10 * 1024 * 1024)}"}`),
      ),
    );
    expectClean(tally);
  });

  it("a token endpoint that never answers, and one that stops mid-body", async () => {
    await hostile(
      "token endpoint stalls",
      "typed",
      bearerRegistry(() => {
        // never answers
      }),
    );
    await hostile(
      "token body stalls",
      "typed",
      bearerRegistry((_request, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
        res.write('{"token":"');
      }),
    );
    expectClean(tally);
  });

  it("a token endpoint that redirects in a loop", async () => {
    await hostile(
      "token endpoint redirect loop",
      "typed",
      bearerRegistry((request, res) => {
        res.writeHead(307, { location: request.path });
        res.end();
      }),
    );
    expectClean(tally);
  });
});

describe("hostile: redirects, stalls and garbage", () => {
  it("a redirect to itself, and a loop across two hosts", async () => {
    await hostile("redirect to itself", "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      res.writeHead(302, { location: request.path });
      res.end();
    });
    other.setHandler((request, res) => {
      res.writeHead(307, { location: `${origin.url}${request.path}` });
      res.end();
    });
    await hostile("redirect loop across two hosts", "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      res.writeHead(307, { location: `${other.url}${request.path}` });
      res.end();
    });
    expectClean(tally);
  });

  it.each([
    ["file:///etc/passwd"],
    ["javascript:alert(1)"],
    ["ftp://127.0.0.1/x"],
    ["http://[::ffff:169.254.169.254]/latest/meta-data"],
    ["//"],
    ["http://user:pass@127.0.0.1:1/"],
  ])("a redirect to %s", async (location) => {
    await hostile(`redirect to ${location}`, "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      res.writeHead(302, { location });
      res.end();
    });
    expectClean(tally);
  });

  it("headers that never come, and a body that stops", async () => {
    await hostile("registry never answers", "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      // never answers
    });
    await hostile(
      "registry body stalls",
      "typed",
      (request, res) => {
        if (request.path === "/v2/") return send(res, 200, {});
        res.writeHead(200, { "content-length": "100000" });
        res.write("x".repeat(1000));
      },
      { read: "bytes" },
    );
    expectClean(tally);
  });

  it("an answer that is not HTTP", async () => {
    origin.setHandler((_request, res) => send(res, 200, {}));
    proxy.setRules([
      {
        path: /\/tags\//,
        fault: { kind: "raw", data: "SSH-2.0-OpenSSH_9.2\r\n\u0000\u0001garbage" },
      },
    ]);
    try {
      await hostile("not HTTP", "typed", (_request, res) => send(res, 200, {}), { via: "proxy" });
    } finally {
      proxy.clearRules();
    }
    expectClean(tally);
  });

  it("an error body of 50 MB, a manifest of 50 MB, endless 503s and a Retry-After of years", async () => {
    const big = "e".repeat(50 * 1024 * 1024);
    await hostile("error body of 50 MB", "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(big);
    });
    await hostile(
      "manifest of 50 MB",
      "typed",
      (request, res) => {
        if (request.path === "/v2/") return send(res, 200, {});
        send(res, 200, `{"schemaVersion":2,"pad":"${big}"}`);
      },
      { path: "/v2/alice/app/manifests/latest" },
    );
    await hostile("endless 503", "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      send(res, 503, { errors: [{ code: "UNAVAILABLE", message: "later" }] });
    });
    await hostile("Retry-After of years", "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      send(
        res,
        429,
        { errors: [{ code: "TOOMANYREQUESTS", message: "later" }] },
        {
          "retry-after": String(10 * 365 * 24 * 3600),
        },
      );
    });
    await hostile("Retry-After of garbage", "typed", (request, res) => {
      if (request.path === "/v2/") return send(res, 200, {});
      send(
        res,
        429,
        { errors: [{ code: "TOOMANYREQUESTS", message: "later" }] },
        {
          "retry-after": "whenever",
        },
      );
    });
    expectClean(tally);
  });
});
