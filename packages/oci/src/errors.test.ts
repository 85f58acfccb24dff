import { describe, expect, it } from "vitest";
import {
  DigestMismatchError,
  InvalidDocumentError,
  OciError,
  SizeMismatchError,
} from "./errors.js";
import { Hash } from "./hash.js";

describe("OciError", () => {
  it("carries code, operation, input and cause", () => {
    const cause = new Error("underlying");
    const error = new OciError("bad", {
      code: "HOIST_OCI_INVALID_ARGUMENT",
      operation: "do it",
      input: "x",
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("OciError");
    expect(error.code).toBe("HOIST_OCI_INVALID_ARGUMENT");
    expect(error.operation).toBe("do it");
    expect(error.input).toBe("x");
    expect(error.cause).toBe(cause);
  });

  it("is recognised by its brand, across copies of the package, and not by shape", () => {
    const error = new OciError("bad", { code: "HOIST_OCI_NOT_FOUND", operation: "find" });
    expect(OciError.is(error)).toBe(true);
    // What another installed copy of the package produces: same Symbol.for brand, other class.
    const foreign = Object.assign(new Error("other copy"), { code: "HOIST_OCI_NOT_FOUND" });
    Object.defineProperty(foreign, Symbol.for("@hoist/oci.error"), { value: true });
    expect(OciError.is(foreign)).toBe(true);
    expect(OciError.is({ code: "HOIST_OCI_NOT_FOUND", message: "look-alike" })).toBe(false);
    expect(OciError.is(new Error("plain"))).toBe(false);
    expect(OciError.is(null)).toBe(false);
    expect(OciError.is("HOIST_OCI_NOT_FOUND")).toBe(false);
  });
});

describe("DigestMismatchError and SizeMismatchError", () => {
  const expected = Hash.compute("expected");
  const actual = Hash.compute("actual");

  it("carry what was expected and what arrived", () => {
    const error = new DigestMismatchError({
      expected,
      actual,
      size: 6,
      operation: "fetch blob",
      subject: "layer",
    });
    expect(error.code).toBe("HOIST_OCI_DIGEST_MISMATCH");
    expect(error.name).toBe("DigestMismatchError");
    expect(error.expected).toBe(expected);
    expect(error.actual).toBe(actual);
    expect(error.message).toBe(
      `layer hashed to ${actual} after 6 bytes but ${expected} was expected; the source is corrupt or was tampered with, so its bytes were rejected`,
    );
    expect(OciError.is(error)).toBe(true);
    expect(DigestMismatchError.is(error)).toBe(true);
    expect(SizeMismatchError.is(error)).toBe(false);
  });

  it("describe excess and truncation", () => {
    const excess = new SizeMismatchError({
      expected: 10,
      actual: 12,
      kind: "excess",
      operation: "x",
    });
    expect(excess.message).toMatch(/longer than the expected 10 bytes \(at least 12 arrived\)/);
    const truncated = new SizeMismatchError({
      expected: 10,
      actual: 4,
      kind: "truncated",
      operation: "x",
    });
    expect(truncated.message).toMatch(/ended after 4 bytes but 10 were expected/);
    expect(SizeMismatchError.is(truncated)).toBe(true);
    expect(DigestMismatchError.is(truncated)).toBe(false);
  });
});

describe("InvalidDocumentError", () => {
  it("names the document, the first path and every problem", () => {
    const error = new InvalidDocumentError("manifest: layers[0].size: bad", {
      code: "HOIST_OCI_INVALID_DOCUMENT",
      document: "manifest",
      problems: [{ path: "layers[0].size", message: "bad" }],
    });
    expect(error.document).toBe("manifest");
    expect(error.path).toBe("layers[0].size");
    expect(error.operation).toBe("parse manifest");
    expect(InvalidDocumentError.is(error)).toBe(true);
    expect(
      InvalidDocumentError.is(new OciError("x", { code: "HOIST_OCI_NOT_FOUND", operation: "y" })),
    ).toBe(false);
  });
});
