import { describe, expect, it } from "vitest";
import { layerBytesMoved, logBetweenMarks, parseAccessLog } from "./access-log.js";

const LAYER = `sha256:${"a".repeat(64)}`;
const CONFIG = `sha256:${"c".repeat(64)}`;
const layers = new Map([[LAYER, 1000]]);

const line = (request: string, status: number, bytes: number | "-") =>
  `127.0.0.1 - - [26/Nov/2026:17:57:49 +0000] "${request} HTTP/1.1" ${status} ${bytes} "" "skopeo/1.9.3"`;

describe("parseAccessLog", () => {
  it("reads the combined-format lines and ignores the structured ones", () => {
    const log = [
      `time="2026-11-26T17:57:49Z" level=info msg="response completed" http.request.method=GET http.request.uri="/v2/x/blobs/${LAYER}"`,
      line(`GET /v2/x/blobs/${LAYER}`, 200, 1000),
      line("POST /v2/x/blobs/uploads/?from=y&mount=sha256%3Aabc", 201, "-"),
    ].join("\n");
    const records = parseAccessLog(log);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      method: "GET",
      path: `/v2/x/blobs/${LAYER}`,
      status: 200,
      bytes: 1000,
    });
    expect(records[1]?.query.get("mount")).toBe("sha256:abc");
    expect(records[1]?.bytes).toBe(0);
  });
});

describe("layerBytesMoved", () => {
  it("counts layer downloads and completed layer uploads, not configs or mounts", () => {
    const log = [
      line(`GET /v2/src/blobs/${LAYER}`, 200, 1000),
      line(`GET /v2/src/blobs/${CONFIG}`, 200, 163),
      line(`HEAD /v2/dst/blobs/${LAYER}`, 404, 157),
      line("POST /v2/dst/blobs/uploads/", 202, 0),
      line("PATCH /v2/dst/blobs/uploads/u1?_state=s", 202, 0),
      line(`PUT /v2/dst/blobs/uploads/u1?_state=s&digest=${encodeURIComponent(LAYER)}`, 201, 0),
      line(`PUT /v2/dst/blobs/uploads/u2?_state=s&digest=${encodeURIComponent(CONFIG)}`, 201, 0),
      line(`POST /v2/other/blobs/uploads/?from=src&mount=${encodeURIComponent(LAYER)}`, 201, 0),
    ].join("\n");
    expect(layerBytesMoved(log, layers)).toBe(2000);
  });

  it("counts a monolithic POST upload and ranged downloads, but not failed requests", () => {
    const log = [
      line(`POST /v2/dst/blobs/uploads/?digest=${LAYER}`, 201, 0),
      line(`GET /v2/src/blobs/${LAYER}`, 206, 400),
      line(`GET /v2/src/blobs/${LAYER}`, 404, 157),
      line(`PUT /v2/dst/blobs/uploads/u1?digest=${LAYER}`, 400, 100),
    ].join("\n");
    expect(layerBytesMoved(log, layers)).toBe(1400);
  });

  it("is 0 for a copy made only of mounts", () => {
    const log = [
      line(`HEAD /v2/dst/blobs/${LAYER}`, 404, 157),
      line(`POST /v2/dst/blobs/uploads/?from=src&mount=${LAYER}`, 201, 0),
      line("PUT /v2/dst/manifests/latest", 201, 0),
    ].join("\n");
    expect(layerBytesMoved(log, layers)).toBe(0);
  });
});

describe("logBetweenMarks", () => {
  it("cuts the log between two marker requests", () => {
    const log = [
      "before",
      line("GET /v2/?bench-mark=one", 200, 2),
      "during",
      line("GET /v2/?bench-mark=two", 200, 2),
      "after",
    ].join("\n");
    const between = logBetweenMarks(log, "one", "two");
    expect(between).toContain("during");
    expect(between).not.toContain("before");
    expect(between).not.toContain("after");
  });

  it("says so when a mark is missing", () => {
    expect(() => logBetweenMarks("nothing", "one", "two")).toThrow(
      /does not hold the marks one and two/,
    );
  });
});
