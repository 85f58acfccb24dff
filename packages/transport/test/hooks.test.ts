import { manualClock, type RunningHttpOrigin, startHttpOrigin } from "@hoist/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTransport,
  isSettableHeader,
  type ResponseInfo,
  TransportError,
} from "../src/index.js";
import { caught, registryAt } from "./helpers.js";

describe("transport-wide headers and the onResponse observer", () => {
  let origin: RunningHttpOrigin;
  beforeAll(async () => {
    origin = await startHttpOrigin({
      handler: (request, res) => {
        if (request.path === "/v2/") {
          res.writeHead(200, { "docker-distribution-api-version": "registry/2.0" });
          res.end("{}");
          return;
        }
        res.setHeader("warning", [
          '299 - "this repository is deprecated"',
          '199 agent "not a registry warning"',
        ]);
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"tags":[]}');
      },
    });
  });
  afterAll(() => origin.stop());

  it("sends the extra headers with every request; the request's own headers win", async () => {
    const transport = createTransport({
      clock: manualClock(),
      headers: { "X-Meta-Source": "config.json", "X-Override": "transport" },
    });
    try {
      const session = await transport.session({ registry: registryAt(origin.host) });
      await (
        await session.request({
          method: "GET",
          path: "/v2/a/tags/list",
          headers: { "x-override": "request" },
        })
      ).discard();
      const sent = origin.requests().find((r) => r.path === "/v2/a/tags/list");
      expect(sent?.headers["x-meta-source"]).toBe("config.json");
      expect(sent?.headers["x-override"]).toBe("request");
      expect(sent?.headers["user-agent"]).toMatch(/^hoist\//);
      // The ping carried them too.
      expect(origin.requests().find((r) => r.path === "/v2/")?.headers["x-meta-source"]).toBe(
        "config.json",
      );
    } finally {
      await transport.close();
    }
  });

  it("shows every answer's status and headers to onResponse", async () => {
    const seen: ResponseInfo[] = [];
    const transport = createTransport({
      clock: manualClock(),
      onResponse: (response) => seen.push(response),
    });
    try {
      const session = await transport.session({ registry: registryAt(origin.host) });
      await (await session.request({ method: "GET", path: "/v2/b/tags/list?n=1" })).discard();
      const answer = seen.find((r) => r.url.includes("/tags/list"));
      expect(answer).toMatchObject({ method: "GET", status: 200 });
      expect(answer?.headers.get("warning")).toContain('299 - "this repository is deprecated"');
      expect(seen.some((r) => r.url.endsWith("/v2/"))).toBe(true);
    } finally {
      await transport.close();
    }
  });

  it("keeps a request alive when the observer throws", async () => {
    const transport = createTransport({
      clock: manualClock(),
      onResponse: () => {
        throw new Error("observer bug");
      },
    });
    try {
      const session = await transport.session({ registry: registryAt(origin.host) });
      const response = await session.request({ method: "GET", path: "/v2/c/tags/list" });
      expect(await response.json()).toEqual({ tags: [] });
    } finally {
      await transport.close();
    }
  });

  it.each([
    [{ Authorization: "Bearer x" }, /Authorization cannot be set/],
    [{ cookie: "a=b" }, /cookie cannot be set/],
    [{ "Content-Length": "3" }, /Content-Length cannot be set/],
    [{ "bad name": "x" }, /"bad name" is not a valid header name/],
    [{ "x-a": "line\r\nbreak" }, /value of x-a must be a string without control characters/],
  ])("refuses headers %j", async (headers, message) => {
    const error = await caught(async () => createTransport({ headers }));
    expect(TransportError.is(error)).toBe(true);
    expect(error.code).toBe("HOIST_TRANSPORT_INVALID_OPTIONS");
    expect(error.message).toMatch(message);
  });

  it.each([
    ["X-Meta-Source", true],
    ["x-custom_header.1", true],
    ["Authorization", false],
    ["PROXY-AUTHORIZATION", false],
    ["Cookie", false],
    ["Host", false],
    ["content-length", false],
    ["Transfer-Encoding", false],
    ["User-Agent", false],
    ["Keep-Alive", false],
    ["bad name", false],
    ["", false],
  ])("isSettableHeader(%j) is %s, as createTransport's headers agree", async (name, settable) => {
    expect(isSettableHeader(name)).toBe(settable);
    const build = () => createTransport({ headers: { [name]: "v" } });
    if (settable) await build().close();
    else
      expect(build).toThrow(expect.objectContaining({ code: "HOIST_TRANSPORT_INVALID_OPTIONS" }));
  });

  it("refuses an onResponse that is not a function", async () => {
    const error = await caught(async () =>
      createTransport({ onResponse: "yes" as unknown as () => void }),
    );
    expect(error.code).toBe("HOIST_TRANSPORT_INVALID_OPTIONS");
  });
});
