import { OciError } from "./errors.js";
import { quote } from "./quote.js";
import type { Descriptor, Platform } from "./types.js";

// Three comparisons live in this package, each for one job:
// - platformEquals: same platform, field by field (feature order ignored).
// - platformSatisfies: go-containerregistry's Satisfies, used by `index filter`: empty fields of
//   the wanted platform are wildcards, no normalisation.
// - indexChildMatches / selectIndexChild: how a remote pull picks an index child (stricter: os
//   and architecture must be equal, a child without platform is linux/amd64, first match wins).
// - createPlatformMatcher (platform-matcher.ts): containerd's default matching, which
//   normalises names and accepts compatible variants (an arm/v7 image runs on arm64).

const COMPONENT = /^[A-Za-z0-9_.-]+$/;

/**
 * Parses `os/arch[/variant][:osversion]`, e.g. `linux/amd64`, `linux/arm64/v8`,
 * `windows/amd64:10.0.17763.1879`. `os` alone is accepted (architecture "", a wildcard for
 * {@link platformSatisfies}). Names are kept as written; see {@link normalizePlatform}.
 * Throws {@link OciError} `HOIST_OCI_INVALID_PLATFORM`.
 */
export function parsePlatform(text: string): Platform {
  const fail = (reason: string): never => {
    throw new OciError(
      `invalid platform ${quote(text)}: ${reason}; expected os/arch[/variant][:osversion], for example "linux/arm64/v8"`,
      {
        code: "HOIST_OCI_INVALID_PLATFORM",
        operation: "parse platform",
        // JavaScript callers can pass a non-string; it has no text to quote.
        input: typeof text === "string" ? text.slice(0, 200) : undefined,
      },
    );
  };
  if (typeof text !== "string") fail("not a string");
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  const path = colon === -1 ? trimmed : trimmed.slice(0, colon);
  const osVersion = colon === -1 ? undefined : trimmed.slice(colon + 1);
  if (osVersion !== undefined && !COMPONENT.test(osVersion)) {
    fail(`the OS version ${quote(osVersion)} must be non-empty letters, digits, "_", "." or "-"`);
  }
  const parts = path.split("/");
  if (parts.length > 3) fail("too many slashes");
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      fail(
        part === ""
          ? "a component is empty"
          : `${quote(part)} may only contain letters, digits, "_", "." and "-"`,
      );
    }
  }
  const [os = "", architecture = "", variant] = parts;
  const platform: Platform = { architecture, os };
  if (variant !== undefined) platform.variant = variant;
  if (osVersion !== undefined) platform["os.version"] = osVersion;
  return platform;
}

/** `os/arch[/variant][:osversion]`; features are not part of the text form. */
export function formatPlatform(platform: Platform): string {
  let text = platform.os;
  if (platform.architecture) text += `/${platform.architecture}`;
  if (platform.variant) text += `/${platform.variant}`;
  if (platform["os.version"]) text += `:${platform["os.version"]}`;
  return text;
}

function sameSet(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = new Set(a ?? []);
  const right = new Set(b ?? []);
  if (left.size !== right.size) return false;
  for (const item of left) if (!right.has(item)) return false;
  return true;
}

function isSubset(
  wanted: readonly string[] | undefined,
  have: readonly string[] | undefined,
): boolean {
  if (!wanted || wanted.length === 0) return true;
  const set = new Set(have ?? []);
  return wanted.every((item) => set.has(item));
}

/**
 * Exact equality: os, architecture, variant and os.version equal (absent equals ""), features
 * and os.features equal as sets. No normalisation: `arm64` and `aarch64` differ.
 */
export function platformEquals(a: Platform, b: Platform): boolean {
  return (
    a.os === b.os &&
    a.architecture === b.architecture &&
    (a.variant ?? "") === (b.variant ?? "") &&
    (a["os.version"] ?? "") === (b["os.version"] ?? "") &&
    sameSet(a["os.features"], b["os.features"]) &&
    sameSet(a.features, b.features)
  );
}

/**
 * go-containerregistry's `Satisfies`: true when `platform` is what `spec` asks for. Each empty
 * field of `spec` is a wildcard; `spec`'s features and os.features must all be present in
 * `platform`'s. No normalisation. This is the rule of `index filter --platform`.
 */
export function platformSatisfies(platform: Platform, spec: Platform): boolean {
  const field = (wanted: string | undefined, have: string | undefined) =>
    !wanted || wanted === (have ?? "");
  return (
    field(spec.os, platform.os) &&
    field(spec.architecture, platform.architecture) &&
    field(spec.variant, platform.variant) &&
    field(spec["os.version"], platform["os.version"]) &&
    isSubset(spec["os.features"], platform["os.features"]) &&
    isSubset(spec.features, platform.features)
  );
}

/** The platform assumed for index children that carry none, and the default pull platform. */
export const DEFAULT_PLATFORM: Readonly<Platform> = Object.freeze({
  architecture: "amd64",
  os: "linux",
});

/**
 * The rule a remote pull uses to pick a child of an index for `spec` (go-containerregistry's
 * remote selection): a child without platform counts as linux/amd64; os and architecture must be
 * exactly equal (an empty spec value is not a wildcard here); variant and os.version must be equal
 * only when `spec` sets them; `spec`'s features and os.features must be present in the child's.
 */
export function indexChildMatches(
  descriptor: Pick<Descriptor, "platform">,
  spec: Platform,
): boolean {
  const platform = descriptor.platform ?? DEFAULT_PLATFORM;
  return (
    platform.os === spec.os &&
    platform.architecture === spec.architecture &&
    (!spec.variant || spec.variant === (platform.variant ?? "")) &&
    (!spec["os.version"] || spec["os.version"] === (platform["os.version"] ?? "")) &&
    isSubset(spec["os.features"], platform["os.features"]) &&
    isSubset(spec.features, platform.features)
  );
}

/** The first of `manifests` that {@link indexChildMatches} `spec`, or undefined. */
export function selectIndexChild<T extends Pick<Descriptor, "platform">>(
  manifests: readonly T[],
  spec: Platform = DEFAULT_PLATFORM,
): T | undefined {
  return manifests.find((descriptor) => indexChildMatches(descriptor, spec));
}
