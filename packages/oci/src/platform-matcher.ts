import { parsePlatform } from "./platform.js";
import type { Platform } from "./types.js";

// containerd's default platform matching (github.com/containerd/platforms, `Only`), as facts:
// names are normalised first, then a platform matches when it equals the wanted platform or one of
// the older variants the wanted CPU also runs. Ordering prefers the wanted platform itself, then
// each fallback in turn.

/**
 * containerd's normalisation: lowercases os, architecture and variant; `macos` is `darwin`;
 * `x86_64`/`x86-64` are `amd64` (variant `v1` dropped); `aarch64` is `arm64` (variant `8`/`v8`
 * dropped, `9` is `v9`); `i386` is `386`; `armhf` is arm/v7, `armel` arm/v6; arm without variant
 * is arm/v7 and `5`–`8` become `v5`–`v8`. os.features are sorted and deduplicated.
 */
export function normalizePlatform(platform: Platform): Platform {
  let os = platform.os.toLowerCase();
  if (os === "macos") os = "darwin";
  let architecture = platform.architecture.toLowerCase();
  let variant = (platform.variant ?? "").toLowerCase();
  switch (architecture) {
    case "i386":
      architecture = "386";
      variant = "";
      break;
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = "";
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "8" || variant === "v8" || variant === "v8.0") variant = "";
      else if (variant === "9" || variant === "9.0" || variant === "v9.0") variant = "v9";
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === "" || variant === "7") variant = "v7";
      else if (variant === "5" || variant === "6" || variant === "8") variant = `v${variant}`;
      break;
  }
  const normalized: Platform = { ...platform, architecture, os };
  if (variant) normalized.variant = variant;
  else delete normalized.variant;
  if (platform["os.features"] && platform["os.features"].length > 0) {
    normalized["os.features"] = [...new Set(platform["os.features"])].sort();
  }
  return normalized;
}

/** A platform matcher built by {@link createPlatformMatcher}. */
export interface PlatformMatcher {
  /** The normalised platform this matcher was built for. */
  readonly platform: Platform;
  /** True when an image for `candidate` runs on the matcher's platform. */
  match(candidate: Platform): boolean;
  /**
   * Sort comparator: negative when `a` is the better choice, so
   * `candidates.filter(m.match).sort(m.compare)[0]` is the best image.
   */
  compare(a: Platform, b: Platform): number;
}

// Minor versions each arm64 variant implies (containerd's table): v9.x also runs v8.(x+5).
function arm64Ladder(variant: string): string[] | undefined {
  const match = /^v(8|9)(?:\.(\d))?$/.exec(variant);
  if (!match) return undefined;
  const major = Number(match[1]);
  const minor = Number(match[2] ?? "0");
  // containerd's table stops at v9.7; later variants have no known compatibility ladder.
  if (major === 9 && minor > 7) return undefined;
  const steps: Array<[number, number]> =
    major === 9
      ? [
          [9, minor],
          [8, Math.min(minor + 5, 9)],
        ]
      : [[8, minor]];
  const ladder: string[] = [];
  for (const [stepMajor, top] of steps) {
    for (let step = top; step >= 0; step--)
      ladder.push(step === 0 ? `v${stepMajor}` : `v${stepMajor}.${step}`);
  }
  return ladder;
}

// The platforms an image may be built for and still run on `platform`, best first.
function platformVector(platform: Platform): Platform[] {
  const base = {
    os: platform.os,
    "os.version": platform["os.version"],
    "os.features": platform["os.features"],
  };
  const make = (architecture: string, variant?: string): Platform => {
    const result: Platform = { architecture, os: base.os };
    if (variant) result.variant = variant;
    if (base["os.version"]) result["os.version"] = base["os.version"];
    if (base["os.features"]) result["os.features"] = base["os.features"];
    return result;
  };
  const variant = platform.variant ?? "";
  switch (platform.architecture) {
    case "amd64": {
      const vector = [platform];
      const level = Number.parseInt(variant.replace(/^v/, ""), 10);
      if (Number.isInteger(level) && String(level) === variant.replace(/^v/, "") && level > 1) {
        for (let step = level - 1; step >= 1; step--) vector.push(make("amd64", `v${step}`));
      }
      vector.push(make("386"));
      return vector;
    }
    case "arm": {
      const vector = [platform];
      const level = Number.parseInt(variant.replace(/^v/, ""), 10);
      if (Number.isInteger(level) && String(level) === variant.replace(/^v/, "") && level > 5) {
        for (let step = level - 1; step >= 5; step--) vector.push(make("arm", `v${step}`));
      }
      return vector;
    }
    case "arm64": {
      const wanted = variant || "v8";
      const ladder = arm64Ladder(wanted);
      if (!ladder) return [];
      const vector = ladder.map((step) => make("arm64", step));
      // 64-bit arm runs 32-bit arm images: arm/v8 down to arm/v5.
      vector.push(...platformVector(make("arm", "v8")));
      return vector;
    }
    default:
      return [platform];
  }
}

interface WindowsVersion {
  major: number;
  minor: number;
  build: number;
}

function windowsVersion(text: string | undefined): WindowsVersion | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:\.|$)/.exec(text ?? "");
  if (!match) return undefined;
  const [major, minor, build] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (major > 255 || minor > 255 || build > 65535) return undefined;
  return { major, minor, build };
}

// Windows Server 2022 (20348) and 2025 (26100): hosts from 2022 on run containers built for the
// newest LTSC release at or below the host's build; older hosts need the exact build.
const LTSC_RELEASES = [20348, 26100];

function windowsCompatible(host: WindowsVersion | undefined, image: string | undefined): boolean {
  if (!host || !image) return true;
  const container = windowsVersion(image) ?? { major: 0, minor: 0, build: 0 };
  if (host.major !== container.major || host.minor !== container.minor) return false;
  if (host.build < (LTSC_RELEASES[0] ?? 0)) return host.build === container.build;
  let supported = LTSC_RELEASES[0] ?? 0;
  for (let index = LTSC_RELEASES.length - 1; index >= 0; index--) {
    const release = LTSC_RELEASES[index] ?? 0;
    if (host.build > release) {
      supported = release;
      break;
    }
  }
  return supported <= container.build && container.build <= host.build;
}

// One entry of the vector: os, architecture and variant must be equal after normalisation; the
// candidate's os.features must all be present on the host; Windows also checks os.version
// compatibility and ignores the `win32k` feature candidates declare.
function exactMatcher(wanted: Platform): (candidate: Platform) => boolean {
  const spec = normalizePlatform(wanted);
  const windows = spec.os === "windows";
  const host = windows ? windowsVersion(spec["os.version"]) : undefined;
  const hostFeatures = new Set(spec["os.features"] ?? []);
  return (candidate) => {
    let features = candidate["os.features"];
    if (windows && features?.includes("win32k"))
      features = features.filter((feature) => feature !== "win32k");
    const normalized = normalizePlatform({ ...candidate, "os.features": features });
    if (
      normalized.os !== spec.os ||
      normalized.architecture !== spec.architecture ||
      (normalized.variant ?? "") !== (spec.variant ?? "")
    ) {
      return false;
    }
    if (windows && !windowsCompatible(host, candidate["os.version"])) return false;
    return (normalized["os.features"] ?? []).every((feature) => hostFeatures.has(feature));
  };
}

/**
 * containerd's default matcher for a host platform (`platforms.Only`): matches images built for
 * the platform itself or a compatible older one, after {@link normalizePlatform}. So
 * `linux/arm64` runs `linux/arm64/v8`, `linux/aarch64` and `linux/arm/v7`; `linux/amd64/v3`
 * runs `v2`, `v1` and `386`; `linux/arm/v7` runs `v6` and `v5` but not `v8`.
 */
export function createPlatformMatcher(host: Platform | string): PlatformMatcher {
  const platform = normalizePlatform(typeof host === "string" ? parsePlatform(host) : host);
  const matchers = platformVector(platform).map(exactMatcher);
  const rank = (candidate: Platform) => matchers.findIndex((matches) => matches(candidate));
  return {
    platform,
    match: (candidate) => rank(candidate) !== -1,
    compare: (a, b) => {
      const left = rank(a);
      const right = rank(b);
      if (left !== right) {
        if (left === -1) return 1;
        if (right === -1) return -1;
        return left - right;
      }
      // Equally good: containerd prefers the candidate that declares more os.features.
      return (b["os.features"]?.length ?? 0) - (a["os.features"]?.length ?? 0);
    },
  };
}
