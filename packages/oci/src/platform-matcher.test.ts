import { describe, expect, it } from "vitest";
import { parsePlatform } from "./platform.js";
import { createPlatformMatcher, normalizePlatform } from "./platform-matcher.js";
import type { Platform } from "./types.js";

describe("normalizePlatform (containerd rules)", () => {
  it.each<[string, Platform]>([
    ["linux/x86_64", { os: "linux", architecture: "amd64" }],
    ["linux/x86-64", { os: "linux", architecture: "amd64" }],
    ["linux/amd64/v1", { os: "linux", architecture: "amd64" }],
    ["linux/amd64/v3", { os: "linux", architecture: "amd64", variant: "v3" }],
    ["linux/aarch64", { os: "linux", architecture: "arm64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64" }],
    ["linux/arm64/8", { os: "linux", architecture: "arm64" }],
    ["linux/arm64/v8.0", { os: "linux", architecture: "arm64" }],
    ["linux/arm64/9", { os: "linux", architecture: "arm64", variant: "v9" }],
    ["linux/arm64/v8.2", { os: "linux", architecture: "arm64", variant: "v8.2" }],
    ["linux/armhf", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/armel", { os: "linux", architecture: "arm", variant: "v6" }],
    ["linux/arm", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/arm/7", { os: "linux", architecture: "arm", variant: "v7" }],
    ["linux/arm/6", { os: "linux", architecture: "arm", variant: "v6" }],
    ["linux/i386", { os: "linux", architecture: "386" }],
    ["Linux/AMD64", { os: "linux", architecture: "amd64" }],
    ["macos/arm64", { os: "darwin", architecture: "arm64" }],
    ["linux/s390x", { os: "linux", architecture: "s390x" }],
  ])("%s", (text, expected) => {
    expect(normalizePlatform(parsePlatform(text))).toEqual(expected);
  });

  it("sorts and deduplicates os.features, and does not change its input", () => {
    const input: Platform = {
      os: "windows",
      architecture: "amd64",
      "os.features": ["b", "a", "b"],
    };
    expect(normalizePlatform(input)["os.features"]).toEqual(["a", "b"]);
    expect(input["os.features"]).toEqual(["b", "a", "b"]);
  });
});

// Facts from containerd's platforms tests: which images each host runs.
const MATCHES: Array<[string, string[], string[]]> = [
  [
    "linux/amd64",
    ["linux/amd64", "linux/386", "linux/x86_64", "linux/amd64/v1"],
    ["linux/amd64/v2", "linux/arm/v7", "linux/arm64", "windows/amd64"],
  ],
  [
    "linux/amd64/v2",
    ["linux/amd64", "linux/amd64/v1", "linux/amd64/v2", "linux/386"],
    ["linux/amd64/v3", "linux/amd64/v4", "linux/arm64"],
  ],
  ["linux/386", ["linux/386"], ["linux/amd64", "linux/arm/v7"]],
  [
    "linux/arm/v8",
    ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8"],
    ["linux/arm/v4", "linux/arm64", "linux/amd64"],
  ],
  [
    "linux/arm/v7",
    ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/armhf"],
    ["linux/arm/v4", "linux/arm/v8", "linux/arm64"],
  ],
  [
    "linux/arm/v6",
    ["linux/arm/v5", "linux/arm/v6", "linux/armel"],
    ["linux/arm", "linux/arm/v7", "linux/arm/v4"],
  ],
  [
    "linux/arm64",
    [
      "linux/arm",
      "linux/arm/v5",
      "linux/arm/v7",
      "linux/arm/v8",
      "linux/arm64",
      "linux/arm64/v8",
      "linux/aarch64",
    ],
    ["linux/amd64", "linux/arm/v4", "linux/arm/v9", "linux/arm64/v9", "windows/arm"],
  ],
  [
    "linux/arm64/v8.1",
    ["linux/arm/v7", "linux/arm64", "linux/arm64/v8", "linux/arm64/v8.1"],
    ["linux/arm64/v8.2", "linux/arm64/v9", "linux/arm/v9"],
  ],
  [
    "linux/arm64/v9",
    ["linux/arm/v7", "linux/arm64", "linux/arm64/v8.5", "linux/arm64/v9", "linux/arm64/v9.0"],
    ["linux/arm64/v8.6", "linux/arm64/v9.1", "linux/amd64"],
  ],
  [
    "linux/arm64/v9.5",
    ["linux/arm64/v8.9", "linux/arm64/v9.5", "linux/arm64/v8.7"],
    ["linux/arm64/v8.10", "linux/arm64/v9.6"],
  ],
  ["windows/amd64", ["windows/amd64", "windows/386"], ["linux/amd64", "windows/arm"]],
];

describe("createPlatformMatcher (containerd default matching)", () => {
  it.each(MATCHES)("host %s", (host, runs, refuses) => {
    const matcher = createPlatformMatcher(host);
    for (const image of runs)
      expect([image, matcher.match(parsePlatform(image))]).toEqual([image, true]);
    for (const image of refuses)
      expect([image, matcher.match(parsePlatform(image))]).toEqual([image, false]);
  });

  it("prefers the host's own platform, then each older fallback", () => {
    const matcher = createPlatformMatcher("linux/arm64");
    const candidates = [
      "linux/arm/v5",
      "linux/amd64",
      "linux/arm/v7",
      "linux/arm64",
      "linux/arm/v8",
    ].map(parsePlatform);
    const best = candidates.filter(matcher.match).sort(matcher.compare);
    expect(best.map((platform) => `${platform.architecture}/${platform.variant ?? ""}`)).toEqual([
      "arm64/",
      "arm/v8",
      "arm/v7",
      "arm/v5",
    ]);
    expect(
      matcher.compare(parsePlatform("linux/amd64"), parsePlatform("linux/arm64")),
    ).toBeGreaterThan(0);
    expect(
      matcher.compare(parsePlatform("linux/arm64"), parsePlatform("linux/amd64")),
    ).toBeLessThan(0);
  });

  it("requires an image's os.features to be present on the host, and prefers more of them", () => {
    const host: Platform = { os: "linux", architecture: "amd64", "os.features": ["a", "b"] };
    const matcher = createPlatformMatcher(host);
    expect(matcher.match({ os: "linux", architecture: "amd64", "os.features": ["b"] })).toBe(true);
    expect(matcher.match({ os: "linux", architecture: "amd64", "os.features": ["c"] })).toBe(false);
    expect(
      createPlatformMatcher("linux/amd64").match({
        os: "linux",
        architecture: "amd64",
        "os.features": ["a"],
      }),
    ).toBe(false);
    const fewer: Platform = { os: "linux", architecture: "amd64" };
    const more: Platform = { os: "linux", architecture: "amd64", "os.features": ["a"] };
    expect(matcher.compare(more, fewer)).toBeLessThan(0);
  });

  it("ignores os.version except on Windows, where the LTSC rules decide", () => {
    expect(createPlatformMatcher("linux/amd64:5.0").match(parsePlatform("linux/amd64:6.1"))).toBe(
      true,
    );
    // Before Windows Server 2022 the build must be equal.
    const rs5 = createPlatformMatcher("windows/amd64:10.0.17763.1234");
    expect(rs5.match(parsePlatform("windows/amd64:10.0.17763.5576"))).toBe(true);
    expect(rs5.match(parsePlatform("windows/amd64:10.0.14393.1"))).toBe(false);
    expect(rs5.match(parsePlatform("windows/amd64"))).toBe(true);
    // From 2022 on, a host runs images from the newest LTSC release it is newer than, up to itself.
    const ws2022 = createPlatformMatcher("windows/amd64:10.0.20348.2340");
    expect(ws2022.match(parsePlatform("windows/amd64:10.0.20348.1"))).toBe(true);
    expect(ws2022.match(parsePlatform("windows/amd64:10.0.17763.1"))).toBe(false);
    const win11 = createPlatformMatcher("windows/amd64:10.0.22621.1");
    expect(win11.match(parsePlatform("windows/amd64:10.0.20348.1"))).toBe(true);
    expect(win11.match(parsePlatform("windows/amd64:10.0.26100.1"))).toBe(false);
    const ws2025 = createPlatformMatcher("windows/amd64:10.0.26200.1");
    expect(ws2025.match(parsePlatform("windows/amd64:10.0.26100.1"))).toBe(true);
    expect(ws2025.match(parsePlatform("windows/amd64:10.0.20348.1"))).toBe(false);
  });

  it("ignores the win32k feature Windows images declare", () => {
    const matcher = createPlatformMatcher("windows/amd64");
    expect(matcher.match({ os: "windows", architecture: "amd64", "os.features": ["win32k"] })).toBe(
      true,
    );
  });

  it("exposes the normalised host platform", () => {
    expect(createPlatformMatcher("Linux/aarch64/8").platform).toEqual({
      os: "linux",
      architecture: "arm64",
    });
  });
});
