import { describe, expect, it } from "vitest";
import { quote, TARBALL_ERROR_CODES, TarballError } from "./errors.js";

describe("TarballError", () => {
  it("carries code, operation, input and cause, and is recognised by brand", () => {
    const cause = new Error("disk");
    const error = new TarballError("boom", {
      code: "HOIST_TARBALL_WRITE_FAILED",
      operation: "write tarball",
      input: "x",
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("TarballError");
    expect([error.code, error.operation, error.input, error.cause]).toEqual([
      "HOIST_TARBALL_WRITE_FAILED",
      "write tarball",
      "x",
      cause,
    ]);
    expect(TarballError.is(error)).toBe(true);
    // A copy from another install carries the same registered brand.
    const foreign = Object.defineProperty(new Error("x"), Symbol.for("@hoist/tarball.error"), {
      value: true,
    });
    expect(TarballError.is(foreign)).toBe(true);
    expect(TarballError.is(new Error("x"))).toBe(false);
    expect(TarballError.is(null)).toBe(false);
  });

  it("has stable, unique codes in HOIST_TARBALL_ form", () => {
    expect(new Set(TARBALL_ERROR_CODES).size).toBe(TARBALL_ERROR_CODES.length);
    for (const code of TARBALL_ERROR_CODES) expect(code).toMatch(/^HOIST_TARBALL_[A-Z_]+$/);
  });

  it("quotes hostile input short and escaped", () => {
    expect(quote("a\nb")).toBe('"a\\nb"');
    expect(quote("x".repeat(1000)).length).toBeLessThan(200);
  });
});
