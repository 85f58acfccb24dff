import { describe, expect, it } from "vitest";
import { TransportError } from "./errors.js";
import { isTemporaryAnswer } from "./registry-error-body.js";
import {
  backoffDelay,
  defaultRetryPolicy,
  isIdempotentMethod,
  isRetryableNetworkCode,
  parseRetryAfter,
  resolveRetryPolicy,
} from "./retry-policy.js";

describe("retry policy", () => {
  it("backs off exponentially, capped, with jitter around each delay", () => {
    const centred = resolveRetryPolicy({ random: () => 0.5 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(centred, n))).toEqual([
      200, 600, 1800, 5400, 10_000,
    ]);
    const low = resolveRetryPolicy({ random: () => 0 });
    const high = resolveRetryPolicy({ random: () => 0.999999 });
    expect(backoffDelay(low, 1)).toBe(160);
    expect(backoffDelay(high, 1)).toBe(240);
    expect(backoffDelay(resolveRetryPolicy({ jitter: 0 }), 2)).toBe(600);
  });

  it("validates options with typed errors", () => {
    for (const bad of [
      { attempts: 0 },
      { attempts: 1.5 },
      { jitter: 2 },
      { statuses: [42] },
      { factor: Number.NaN },
    ]) {
      let caught: unknown;
      try {
        resolveRetryPolicy(bad);
      } catch (error) {
        caught = error;
      }
      expect(TransportError.is(caught)).toBe(true);
      expect((caught as TransportError).code).toBe("HOIST_TRANSPORT_INVALID_OPTIONS");
    }
    expect(resolveRetryPolicy(false).attempts).toBe(1);
    expect(resolveRetryPolicy().statuses).toEqual([408, 429, 500, 502, 503, 504]);
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Thu, 01 Jan 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:00 GMT", now)).toBe(0);
    for (const junk of [
      null,
      undefined,
      "",
      "-5",
      "soon",
      "1.5",
      "2026-01-01T12:00:30Z",
      "9".repeat(100),
    ]) {
      expect(parseRetryAfter(junk, now)).toBeUndefined();
    }
  });

  it("knows which methods and network failures may be repeated", () => {
    expect(["GET", "head", "PUT", "DELETE"].every(isIdempotentMethod)).toBe(true);
    expect(["POST", "PATCH"].some(isIdempotentMethod)).toBe(false);
    expect(
      ["ECONNRESET", "UND_ERR_SOCKET", "UND_ERR_HEADERS_TIMEOUT"].every(isRetryableNetworkCode),
    ).toBe(true);
    expect(
      ["ECONNREFUSED", "ENOTFOUND", "ERR_TLS_CERT_ALTNAME_INVALID", undefined].some(
        isRetryableNetworkCode,
      ),
    ).toBe(false);
  });

  it("treats statuses and registry codes as temporary the way retries do", () => {
    const policy = defaultRetryPolicy;
    expect(isTemporaryAnswer(503, [], policy)).toBe(true);
    expect(isTemporaryAnswer(429, [{ code: "TOOMANYREQUESTS", message: "" }], policy)).toBe(true);
    expect(isTemporaryAnswer(500, [{ code: "UNKNOWN", message: "" }], policy)).toBe(true);
    expect(isTemporaryAnswer(500, [{ code: "MANIFEST_INVALID", message: "" }], policy)).toBe(false);
    expect(isTemporaryAnswer(404, [], policy)).toBe(false);
    expect(isTemporaryAnswer(503, [], resolveRetryPolicy({ statuses: [429] }))).toBe(false);
  });
});
