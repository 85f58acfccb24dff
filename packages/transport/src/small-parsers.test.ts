import { describe, expect, it } from "vitest";
import { RegistryError, TransportError } from "./errors.js";
import { inspectToken } from "./jwt.js";
import { parseRateLimit } from "./rate-limit.js";
import { buildRegistryError, parseRegistryErrorBody } from "./registry-error-body.js";
import { defaultRetryPolicy } from "./retry-policy.js";
import { mergeScopes, scopeKey } from "./scopes.js";
import { statusText } from "./status-text.js";

describe("parseRateLimit", () => {
  it("reads Docker Hub's headers", () => {
    const headers = new Headers({
      "ratelimit-limit": "100;w=21600",
      "ratelimit-remaining": "76;w=21600",
      "docker-ratelimit-source": "203.0.113.7",
    });
    expect(parseRateLimit(headers)).toEqual({
      limit: 100,
      remaining: 76,
      windowSeconds: 21600,
      source: "203.0.113.7",
    });
  });
  it("reads the draft's list form and reset, and ignores junk", () => {
    expect(
      parseRateLimit(new Headers({ "ratelimit-limit": "10, 10;w=60", "ratelimit-reset": "30" })),
    ).toEqual({
      limit: 10,
      windowSeconds: 60,
      resetSeconds: 30,
    });
    expect(parseRateLimit(new Headers({ "ratelimit-limit": "lots" }))).toBeUndefined();
    expect(parseRateLimit(new Headers())).toBeUndefined();
  });
});

describe("registry error bodies", () => {
  it("parses distribution-spec diagnostics and ignores anything else", () => {
    expect(
      parseRegistryErrorBody('{"errors":[{"code":"DENIED","message":"no","detail":{"a":1}}]}'),
    ).toEqual([{ code: "DENIED", message: "no", detail: { a: 1 } }]);
    expect(parseRegistryErrorBody("<html>bad gateway</html>")).toEqual([]);
    expect(parseRegistryErrorBody('{"errors":"nope"}')).toEqual([]);
  });

  const build = (status: number, text: string, method = "GET", truncated = false) =>
    buildRegistryError({
      operation: "request",
      method,
      url: "https://r.io/v2/x",
      status,
      statusText: "Status",
      headers: new Headers({ "retry-after": "7" }),
      body: { bytes: Buffer.from(text), truncated },
      policy: defaultRetryPolicy,
      now: 0,
    });

  it("formats one, several, or no diagnostics", () => {
    expect(
      build(404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}').message,
    ).toBe("GET https://r.io/v2/x: MANIFEST_UNKNOWN: manifest unknown");
    expect(
      build(400, '{"errors":[{"code":"A","message":"x"},{"code":"B","message":"y"}]}').message,
    ).toBe("GET https://r.io/v2/x: multiple errors returned: A: x; B: y");
    const raw = build(502, "<html>upstream down</html>");
    expect(raw.message).toBe(
      "GET https://r.io/v2/x: unexpected status code 502 Status: <html>upstream down</html>",
    );
    expect(raw).toMatchObject({
      isTemporary: true,
      retryAfterMs: 7000,
      body: "<html>upstream down</html>",
    });
    const long = build(500, "x".repeat(5000), "GET", true);
    expect(long.body?.endsWith("… (truncated)")).toBe(true);
    expect(long.body?.length).toBeLessThan(1100);
  });

  it("brands errors so is() works without instanceof", () => {
    const error = build(404, "");
    expect(RegistryError.is(error) && TransportError.is(error)).toBe(true);
    const foreign = Object.assign(new Error("x"), { code: "HOIST_TRANSPORT_NETWORK" });
    expect(TransportError.is(foreign)).toBe(false);
    expect(
      RegistryError.is(
        new TransportError("x", { code: "HOIST_TRANSPORT_NETWORK", operation: "t" }),
      ),
    ).toBe(false);
  });
});

describe("scopes", () => {
  it("merges actions per resource, in a fixed order, keeping positions", () => {
    expect(mergeScopes(["repository:a:pull"], ["repository:a:push", "repository:b:pull"])).toEqual([
      "repository:a:pull,push",
      "repository:b:pull",
    ]);
    expect(
      mergeScopes(["repository:a:pull"], ["repository:b:push,pull"], { prepend: true }),
    ).toEqual(["repository:b:pull,push", "repository:a:pull"]);
    expect(mergeScopes(["registry:catalog:*", "odd"], ["odd", " "])).toEqual([
      "registry:catalog:*",
      "odd",
    ]);
  });
  it("keys scope sets regardless of order ", () => {
    expect(scopeKey(["repository:b:push,pull", "repository:a:pull"])).toBe(
      scopeKey(["repository:a:pull", "repository:b:pull", "repository:b:push"]),
    );
  });
});

describe("inspectToken", () => {
  it("decodes JWT claims for display and gives up on opaque tokens", () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const token = `${part({ alg: "RS256" })}.${part({ iss: "me", sub: "u", aud: "svc", exp: 1_800_000_000, access: [{ type: "repository", name: "a", actions: ["pull"] }] })}.sig`;
    expect(inspectToken(token)).toMatchObject({
      issuer: "me",
      subject: "u",
      audience: ["svc"],
      expiresAt: new Date(1_800_000_000_000),
      access: [{ type: "repository", name: "a", actions: ["pull"] }],
    });
    for (const opaque of ["abc", "a.b", "a.!.c", `${part([1])}.${part({})}.x`])
      expect(inspectToken(opaque)).toBeUndefined();
  });
});

describe("statusText", () => {
  it("names the statuses registries answer with, and nothing for unknown codes", () => {
    expect(statusText(200)).toBe("OK");
    expect(statusText(202)).toBe("Accepted");
    expect(statusText(307)).toBe("Temporary Redirect");
    expect(statusText(404)).toBe("Not Found");
    expect(statusText(416)).toBe("Range Not Satisfiable");
    expect(statusText(429)).toBe("Too Many Requests");
    expect(statusText(503)).toBe("Service Unavailable");
    expect(statusText(599)).toBe("");
    expect(statusText(0)).toBe("");
  });
});
