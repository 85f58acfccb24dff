import { Hash, MediaType } from "@hoist/oci";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LayoutError } from "./errors.js";
import { isValidRefName, matchRefName, REF_NAME_ANNOTATION, toMatcher } from "./matchers.js";

const ALNUM = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"];
const alphanum = fc
  .array(fc.constantFrom(...ALNUM), { minLength: 1, maxLength: 8 })
  .map((c) => c.join(""));
const separator = fc.constantFrom("-", ".", "_", ":", "@", "+", "--");
const component = fc
  .tuple(alphanum, fc.array(fc.tuple(separator, alphanum), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([sep, part]) => sep + part).join(""));
// The OCI grammar: ref ::= component ("/" component)*
const refName = fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));

describe("reference names", () => {
  it.each(["latest", "v1.0", "1.2.3-rc.1", "example.com/app:1.0", "a--b", "repo@sha256", "x+y"])(
    "accepts %s",
    (name) => expect(isValidRefName(name)).toBe(true),
  );

  it.each(["", "-v1", "v1-", "a//b", "/a", "a/", "a b", "../x", "a..b..", "tag\n", "ü", "a---b"])(
    "refuses %j",
    (name) => expect(isValidRefName(name)).toBe(false),
  );

  it("accepts everything the grammar generates", () => {
    fc.assert(
      fc.property(refName, (name) => {
        expect(isValidRefName(name)).toBe(true);
      }),
    );
  });

  it("refuses any name with a character outside the grammar's set", () => {
    fc.assert(
      fc.property(
        refName,
        fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !/[A-Za-z0-9\-._:@+/]/.test(c)),
        fc.nat(),
        (name, bad, at) => {
          const position = at % (name.length + 1);
          expect(isValidRefName(name.slice(0, position) + bad + name.slice(position))).toBe(false);
        },
      ),
    );
  });
});

describe("selectors", () => {
  const entry = (name: string, digest = Hash.compute(name)) => ({
    mediaType: MediaType.OCI_MANIFEST,
    size: 1,
    digest,
    annotations: { [REF_NAME_ANNOTATION]: name },
  });

  it("reads a digest string as a digest and any other string as a reference name", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (text) => {
        const matcher = toMatcher(text, "test");
        if (Hash.isValid(text)) {
          expect(matcher(entry("other", Hash.parse(text)))).toBe(true);
        } else {
          expect(matcher(entry(text))).toBe(matchRefName(text)(entry(text)));
          expect(matcher(entry(text))).toBe(true);
          expect(matcher(entry(`${text}x`))).toBe(false);
        }
      }),
    );
  });

  it("accepts Hash objects and refuses other values", () => {
    const digest = Hash.compute("x");
    expect(toMatcher(digest, "test")(entry("y", digest))).toBe(true);
    for (const bad of ["", null, 7, true]) {
      expect(() => toMatcher(bad as never, "test")).toThrow(LayoutError);
    }
  });
});
