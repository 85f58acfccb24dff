import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LayoutError } from "./errors.js";
import { blobPath, isInside, validHash } from "./paths.js";

const root = resolve("/layouts/app");
const HEX = "0123456789abcdef";

// Digest-shaped strings: mostly right, with the characters an attack would use mixed in.
const digestLike = fc.oneof(
  fc.string(),
  fc
    .tuple(
      fc.constantFrom("sha256", "sha512", "SHA256", "md5", "..", "", "sha256/..", "sha256:.."),
      fc.constantFrom(":", "/", "", "::"),
      fc.array(fc.constantFrom(...HEX, ".", "/", "\\", "\0", "A", ":", "%2e"), {
        minLength: 0,
        maxLength: 140,
      }),
    )
    .map(([algorithm, separator, hex]) => `${algorithm}${separator}${hex.join("")}`),
  fc
    .array(fc.constantFrom(...HEX), { minLength: 64, maxLength: 64 })
    .map((hex) => `sha256:${hex.join("")}`),
);

describe("blob paths", () => {
  it("builds paths only from valid digests, and only below blobs/", () => {
    fc.assert(
      fc.property(digestLike, (text) => {
        let path: string | undefined;
        try {
          path = blobPath(root, text, "test");
        } catch (error) {
          expect(LayoutError.is(error) && error.code === "HOIST_LAYOUT_INVALID_DIGEST").toBe(true);
          return;
        }
        const [algorithm, hex] = text.split(":") as [string, string];
        expect(path).toBe(join(root, "blobs", algorithm, hex));
        expect(isInside(join(root, "blobs"), path)).toBe(true);
        expect(hex).toMatch(/^[0-9a-f]{64}$|^[0-9a-f]{128}$/);
      }),
      { numRuns: 2000 },
    );
  });

  it("re-parses objects from their text and ignores their fields", () => {
    const text = `sha256:${"ab".repeat(32)}`;
    const forged = { algorithm: "..", hex: "../../etc", toString: () => text };
    const hash = validHash(forged, "test");
    expect(hash.algorithm).toBe("sha256");
    expect(blobPath(root, forged as never, "test")).toBe(
      join(root, "blobs", "sha256", "ab".repeat(32)),
    );
    for (const bad of [null, undefined, 42, {}, { toString: () => "sha256:../x" }]) {
      expect(() => validHash(bad, "test")).toThrow(LayoutError);
    }
  });

  it("tells inside from outside", () => {
    expect(isInside("/a/b", "/a/b")).toBe(true);
    expect(isInside("/a/b", "/a/b/c")).toBe(true);
    expect(isInside("/a/b", "/a/bc")).toBe(false);
    expect(isInside("/a/b", "/a/b/../c")).toBe(false);
    expect(isInside("/a/b", "/a")).toBe(false);
  });
});
