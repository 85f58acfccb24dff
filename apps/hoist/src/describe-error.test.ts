import { describe, expect, it } from "vitest";
import { describeError, hintFor } from "./describe-error.js";

function coded(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe("one-line errors with a hint", () => {
  it("suggests logging in on 401", () => {
    const error = coded("GET http://127.0.0.1:5000/v2/a/manifests/b: 401 Unauthorized", {
      code: "HOIST_TRANSPORT_REGISTRY_ERROR",
      status: 401,
      url: "http://127.0.0.1:5000/v2/a/manifests/b",
    });
    expect(describeError(new Error("fetching manifest b: boom", { cause: error }))).toBe(
      'fetching manifest b: boom (log in with "hoist auth login 127.0.0.1:5000 -u USER -p PASSWORD", or put credentials for 127.0.0.1:5000 in $DOCKER_CONFIG/config.json)',
    );
  });

  it.each([
    [{ code: "HOIST_TRANSPORT_TLS" }, /--insecure/],
    [{ code: "HOIST_TRANSPORT_NETWORK" }, /running and reachable/],
    [
      {
        code: "HOIST_TRANSPORT_REGISTRY_ERROR",
        status: 404,
        errors: [{ code: "MANIFEST_UNKNOWN" }],
      },
      /hoist ls/,
    ],
    [{ code: "HOIST_TRANSPORT_REGISTRY_ERROR", status: 403 }, /refused access/],
    [
      { code: "HOIST_TRANSPORT_TOKEN_EXCHANGE", status: 401, realm: "http://a:1/token" },
      /auth login a:1/,
    ],
  ])("hints for %j", (fields, hint) => {
    expect(hintFor(coded("x", fields))).toMatch(hint);
  });

  it("folds multi-line messages into one line and adds nothing for unknown errors", () => {
    expect(describeError(new Error("first\n  second\nthird"))).toBe("first; second; third");
    expect(describeError("plain")).toBe("plain");
  });
});
