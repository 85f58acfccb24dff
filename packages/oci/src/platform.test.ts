import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OciError } from "./errors.js";
import {
  DEFAULT_PLATFORM,
  formatPlatform,
  indexChildMatches,
  parsePlatform,
  platformEquals,
  platformSatisfies,
  selectIndexChild,
} from "./platform.js";
import type { Platform } from "./types.js";

describe("parsePlatform / formatPlatform", () => {
  it.each<[string, Platform]>([
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/arm/v7", { os: "linux", architecture: "arm", variant: "v7" }],
    [
      "windows/amd64:10.0.17763.1879",
      { os: "windows", architecture: "amd64", "os.version": "10.0.17763.1879" },
    ],
    ["linux", { os: "linux", architecture: "" }],
    ["linux/riscv64/rva22u64", { os: "linux", architecture: "riscv64", variant: "rva22u64" }],
    [
      "darwin/arm64/v8:14.0",
      { os: "darwin", architecture: "arm64", variant: "v8", "os.version": "14.0" },
    ],
  ])("%s", (text, platform) => {
    expect(parsePlatform(text)).toEqual(platform);
    expect(formatPlatform(platform)).toBe(text);
  });

  it("keeps names as written (normalising is the matcher's job)", () => {
    expect(parsePlatform("Linux/AArch64")).toEqual({ os: "Linux", architecture: "AArch64" });
  });

  it("trims surrounding whitespace", () => {
    expect(parsePlatform("  linux/amd64\n")).toEqual({ os: "linux", architecture: "amd64" });
  });

  it.each([
    ["", /a component is empty/],
    ["/amd64", /empty/],
    ["linux/", /empty/],
    ["linux//v7", /empty/],
    ["linux/arm/v7/extra", /too many slashes/],
    ["linux/amd64:", /OS version/],
    ["linux/amd64:10.0:1", /OS version/],
    ["linux/amd 64", /may only contain/],
    ["linux/amd64\nX", /may only contain/],
    ["linux/*", /may only contain/],
    ["../../etc/passwd", /too many slashes/],
  ])("refuses %j", (text, message) => {
    try {
      parsePlatform(text);
      expect.unreachable();
    } catch (error) {
      expect(OciError.is(error)).toBe(true);
      expect((error as OciError).code).toBe("HOIST_OCI_INVALID_PLATFORM");
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain("os/arch[/variant][:osversion]");
    }
  });

  it.each([[undefined], [null], [42], [{}], [["linux/amd64"]]])(
    "refuses the non-string %j with an OciError, not a TypeError",
    (value) => {
      expect(() => parsePlatform(value as unknown as string)).toThrow(
        expect.objectContaining({ code: "HOIST_OCI_INVALID_PLATFORM", input: undefined }),
      );
    },
  );

  it("round-trips every well-formed platform (property)", () => {
    const component = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    fc.assert(
      fc.property(
        component,
        component,
        fc.option(component, { nil: undefined }),
        fc.option(component, { nil: undefined }),
        (os, architecture, variant, osVersion) => {
          const platform: Platform = { os, architecture };
          if (variant !== undefined) platform.variant = variant;
          if (osVersion !== undefined) platform["os.version"] = osVersion;
          const text = formatPlatform(platform);
          expect(parsePlatform(text)).toEqual(platform);
          expect(formatPlatform(parsePlatform(text))).toBe(text);
        },
      ),
    );
  });

  it("any string parses to a platform or fails with an OciError (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9/:._ -]{0,20}$/)), (text) => {
        try {
          const platform = parsePlatform(text);
          expect(formatPlatform(platform)).toBe(text.trim());
        } catch (error) {
          expect(OciError.is(error)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("platformEquals", () => {
  it("compares every field, ignoring feature order and duplicates", () => {
    const a: Platform = {
      os: "windows",
      architecture: "amd64",
      "os.features": ["win32k", "x"],
      features: ["f", "g"],
    };
    expect(
      platformEquals(a, { ...a, "os.features": ["x", "win32k"], features: ["g", "f", "g"] }),
    ).toBe(true);
    expect(platformEquals(a, { ...a, "os.features": ["x"] })).toBe(false);
    expect(platformEquals(a, { ...a, variant: "v1" })).toBe(false);
    expect(platformEquals(a, { ...a, "os.version": "10.0" })).toBe(false);
    expect(
      platformEquals(
        { os: "linux", architecture: "arm64", variant: "" },
        { os: "linux", architecture: "arm64" },
      ),
    ).toBe(true);
    expect(
      platformEquals(
        { os: "linux", architecture: "arm64" },
        { os: "linux", architecture: "aarch64" },
      ),
    ).toBe(false);
  });
});

describe("platformSatisfies (go-containerregistry Satisfies)", () => {
  const image: Platform = {
    os: "linux",
    architecture: "arm64",
    variant: "v8",
    "os.version": "5.15",
    "os.features": ["a", "b"],
    features: ["sve"],
  };
  it.each<[string, Platform, boolean]>([
    ["the same platform", image, true],
    ["only os and architecture", { os: "linux", architecture: "arm64" }, true],
    ["only os (empty architecture is a wildcard)", { os: "linux", architecture: "" }, true],
    ["nothing at all", { os: "", architecture: "" }, true],
    ["a subset of os.features", { os: "linux", architecture: "arm64", "os.features": ["b"] }, true],
    ["an os.feature it lacks", { os: "linux", architecture: "arm64", "os.features": ["c"] }, false],
    ["a feature it lacks", { os: "linux", architecture: "arm64", features: ["neon"] }, false],
    ["another variant", { os: "linux", architecture: "arm64", variant: "v9" }, false],
    ["another os.version", { os: "linux", architecture: "arm64", "os.version": "6.1" }, false],
    ["another architecture", { os: "linux", architecture: "amd64" }, false],
    ["a synonym (no normalisation)", { os: "linux", architecture: "aarch64" }, false],
  ])("%s: %s", (_name, spec, expected) => {
    expect(platformSatisfies(image, spec)).toBe(expected);
  });
});

describe("index child selection (go-containerregistry remote, R5)", () => {
  const digest = (character: string) => `sha256:${character.repeat(64)}`;
  const child = (character: string, platform?: Platform) => ({
    digest,
    mediaType: "x",
    id: character,
    platform,
  });

  it("treats a child without platform as linux/amd64", () => {
    expect(DEFAULT_PLATFORM).toEqual({ os: "linux", architecture: "amd64" });
    expect(indexChildMatches({}, { os: "linux", architecture: "amd64" })).toBe(true);
    expect(indexChildMatches({}, { os: "linux", architecture: "arm64" })).toBe(false);
  });

  it("requires os and architecture to be equal; empty values are not wildcards", () => {
    const descriptor = { platform: { os: "linux", architecture: "arm64", variant: "v8" } };
    expect(indexChildMatches(descriptor, { os: "linux", architecture: "arm64" })).toBe(true);
    expect(indexChildMatches(descriptor, { os: "linux", architecture: "" })).toBe(false);
    expect(indexChildMatches(descriptor, { os: "linux", architecture: "aarch64" })).toBe(false);
    expect(indexChildMatches(descriptor, { os: "Linux", architecture: "arm64" })).toBe(false);
  });

  it("checks variant and os.version only when asked for, features as subsets", () => {
    const descriptor = {
      platform: {
        os: "windows",
        architecture: "amd64",
        "os.version": "10.0.17763.1",
        "os.features": ["win32k"],
      },
    };
    expect(indexChildMatches(descriptor, { os: "windows", architecture: "amd64" })).toBe(true);
    expect(
      indexChildMatches(descriptor, {
        os: "windows",
        architecture: "amd64",
        "os.version": "10.0.17763.1",
      }),
    ).toBe(true);
    expect(
      indexChildMatches(descriptor, {
        os: "windows",
        architecture: "amd64",
        "os.version": "10.0.20348.1",
      }),
    ).toBe(false);
    expect(
      indexChildMatches(descriptor, { os: "windows", architecture: "amd64", variant: "v2" }),
    ).toBe(false);
    expect(
      indexChildMatches(descriptor, {
        os: "windows",
        architecture: "amd64",
        "os.features": ["win32k"],
      }),
    ).toBe(true);
    expect(
      indexChildMatches(descriptor, { os: "windows", architecture: "amd64", features: ["x"] }),
    ).toBe(false);
  });

  it("picks the first match, defaulting to linux/amd64", () => {
    const manifests = [
      child("1", { os: "linux", architecture: "arm", variant: "v7" }),
      child("2", { os: "linux", architecture: "arm64", variant: "v8" }),
      child("3", { os: "linux", architecture: "amd64" }),
      child("4"),
      child("5", { os: "linux", architecture: "arm64" }),
    ];
    expect(selectIndexChild(manifests)?.id).toBe("3");
    expect(selectIndexChild(manifests, { os: "linux", architecture: "arm64" })?.id).toBe("2");
    expect(
      selectIndexChild(manifests, { os: "linux", architecture: "arm64", variant: "v8" })?.id,
    ).toBe("2");
    expect(selectIndexChild(manifests, { os: "linux", architecture: "arm" })?.id).toBe("1");
    expect(selectIndexChild(manifests, { os: "linux", architecture: "s390x" })).toBeUndefined();
    expect(selectIndexChild([child("6"), child("7")])?.id).toBe("6");
  });
});
