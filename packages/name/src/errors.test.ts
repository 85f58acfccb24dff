import { describe, expect, it } from "vitest";
import {
  Digest,
  isNameError,
  NAME_ERROR_CODES,
  NameError,
  parseReference,
  Registry,
  Repository,
  Tag,
} from "./index.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("NameError", () => {
  it("carries code, operation, input and cause", () => {
    const cause = new Error("inner");
    const error = new NameError("Invalid tag", {
      code: "HOIST_NAME_INVALID_TAG",
      operation: "parse tag",
      input: "x:",
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("NameError");
    expect(error.code).toBe("HOIST_NAME_INVALID_TAG");
    expect(error.operation).toBe("parse tag");
    expect(error.input).toBe("x:");
    expect(error.cause).toBe(cause);
    expect(error.message).toBe("Invalid tag");
  });

  it("is recognised by its brand, also when it comes from another copy of the package", () => {
    const error = thrown(() => parseReference("@@"));
    expect(NameError.is(error)).toBe(true);
    expect(isNameError(error)).toBe(true);
    // What a second installed copy's error looks like from here: another class, same brand.
    class OtherCopy extends Error {}
    const foreign = new OtherCopy("x");
    Object.defineProperty(foreign, Symbol.for("@hoist/name.NameError"), { value: true });
    expect(foreign instanceof NameError).toBe(false);
    expect(NameError.is(foreign)).toBe(true);
  });

  it.each([new Error("x"), { code: "HOIST_NAME_INVALID_TAG" }, null, undefined, "NameError", 42])(
    "does not mistake %j for a NameError",
    (value) => {
      expect(NameError.is(value)).toBe(false);
    },
  );

  it("lists every code the parsers use", () => {
    expect([...NAME_ERROR_CODES].sort()).toEqual(
      [
        "HOIST_NAME_INVALID_DIGEST",
        "HOIST_NAME_INVALID_OPTION",
        "HOIST_NAME_INVALID_REFERENCE",
        "HOIST_NAME_INVALID_REGISTRY",
        "HOIST_NAME_INVALID_REPOSITORY",
        "HOIST_NAME_INVALID_TAG",
      ].sort(),
    );
    expect(Object.isFrozen(NAME_ERROR_CODES)).toBe(true);
  });

  // JavaScript callers can pass anything; they get the same typed error.
  it.each([
    ["parseReference", (v: unknown) => parseReference(v as string), "HOIST_NAME_INVALID_REFERENCE"],
    ["Tag.parse", (v: unknown) => Tag.parse(v as string), "HOIST_NAME_INVALID_REFERENCE"],
    ["Digest.parse", (v: unknown) => Digest.parse(v as string), "HOIST_NAME_INVALID_REFERENCE"],
    [
      "Repository.parse",
      (v: unknown) => Repository.parse(v as string),
      "HOIST_NAME_INVALID_REPOSITORY",
    ],
    ["Registry.parse", (v: unknown) => Registry.parse(v as string), "HOIST_NAME_INVALID_REGISTRY"],
    [
      "repository.tag",
      (v: unknown) => Repository.parse("foo").tag(v as string),
      "HOIST_NAME_INVALID_TAG",
    ],
    [
      "repository.digest",
      (v: unknown) => Repository.parse("foo").digest(v as string),
      "HOIST_NAME_INVALID_DIGEST",
    ],
    [
      "registry.repository",
      (v: unknown) => Registry.parse("").repository(v as string),
      "HOIST_NAME_INVALID_REPOSITORY",
    ],
  ])("%s refuses non-strings with %s", (_name, fn, code) => {
    for (const value of [undefined, null, 42, {}, ["ubuntu"], Symbol("s")]) {
      const error = thrown(() => fn(value));
      expect(NameError.is(error)).toBe(true);
      expect((error as NameError).code).toBe(code);
      expect((error as NameError).message).toMatch(/expected a string, got \w+\.$/);
      expect((error as NameError).input).toBeUndefined();
    }
  });
});
