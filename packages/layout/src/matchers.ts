import {
  baseMediaType,
  createPlatformMatcher,
  type Descriptor,
  Hash,
  OciError,
  type Platform,
  parsePlatform,
  platformEquals,
  platformSatisfies,
} from "@hoist/oci";
import { LayoutError, quote } from "./errors.js";
import { validHash } from "./paths.js";

// Matchers pick entries of an index by their descriptor, as go-containerregistry's `match`
// package does. They are plain predicates, so callers can combine them or write their own.

/** Picks descriptors: true for the ones wanted. */
export type DescriptorMatcher = (descriptor: Descriptor) => boolean;

/**
 * What the lookup and edit methods accept: a matcher; a digest (`sha256:…`, as a Hash or string);
 * or any other string, taken as a reference name (the `org.opencontainers.image.ref.name`
 * annotation, what `skopeo`'s `oci:<dir>:<name>` names).
 */
export type Selector = DescriptorMatcher | Hash | string;

/** The annotation that names an entry of `index.json`: the tag of a layout. */
export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

// The spec's grammar for reference names: components of alphanumerics joined by -._:@+ or "--",
// separated by "/".
const REF_NAME =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/**
 * True when `name` follows the OCI grammar for `org.opencontainers.image.ref.name` values
 * (`v1.0`, `latest`, `example.com/app:1.2`). The spec says SHOULD; this package enforces it only
 * for names it writes, and reads any name.
 */
export function isValidRefName(name: unknown): name is string {
  return typeof name === "string" && name.length <= 4096 && REF_NAME.test(name);
}

/** Entries whose reference-name annotation is `name` (go-containerregistry's `match.Name`). */
export function matchRefName(name: string): DescriptorMatcher {
  if (typeof name !== "string")
    throw argument(`a reference name must be a string, got ${typeof name}`);
  return (descriptor) => descriptor.annotations?.[REF_NAME_ANNOTATION] === name;
}

/** Entries with annotation `key` set to `value`. */
export function matchAnnotation(key: string, value: string): DescriptorMatcher {
  if (typeof key !== "string" || typeof value !== "string") {
    throw argument("matchAnnotation needs a string key and a string value");
  }
  return (descriptor) =>
    descriptor.annotations !== undefined &&
    Object.hasOwn(descriptor.annotations, key) &&
    descriptor.annotations[key] === value;
}

/** Entries with one of these digests. */
export function matchDigests(digests: ReadonlyArray<Hash | string>): DescriptorMatcher {
  const wanted = new Set(
    asArray(digests, "matchDigests").map((digest) => String(validHash(digest, "match digests"))),
  );
  return (descriptor) => wanted.has(String(descriptor.digest));
}

/** Entries with one of these media types (parameters and case ignored). */
export function matchMediaTypes(mediaTypes: readonly string[]): DescriptorMatcher {
  const wanted = new Set(
    asArray(mediaTypes, "matchMediaTypes").map((type) => {
      if (typeof type !== "string") throw argument("media types must be strings");
      return baseMediaType(type);
    }),
  );
  return (descriptor) => wanted.has(baseMediaType(descriptor.mediaType));
}

export interface MatchPlatformsOptions {
  /**
   * How a descriptor's platform is compared with the wanted ones:
   * - `"equals"` (default, go-containerregistry's `match.Platforms`): every field equal;
   * - `"satisfies"`: empty fields of the wanted platform are wildcards (`index filter`);
   * - `"compatible"`: the wanted platform is a host, and entries it can run match (containerd's
   *   rules: `linux/arm64` runs `linux/arm/v7`).
   */
  by?: "equals" | "satisfies" | "compatible";
}

/**
 * Entries whose `platform` matches one of `platforms` (as objects or `os/arch[/variant]` text).
 * Entries without a platform never match.
 */
export function matchPlatforms(
  platforms: ReadonlyArray<Platform | string>,
  options: MatchPlatformsOptions = {},
): DescriptorMatcher {
  const by = options.by ?? "equals";
  const wanted = asArray(platforms, "matchPlatforms").map((platform) => toPlatform(platform));
  switch (by) {
    case "equals":
      return (descriptor) =>
        descriptor.platform !== undefined &&
        wanted.some((platform) => platformEquals(descriptor.platform as Platform, platform));
    case "satisfies":
      return (descriptor) =>
        descriptor.platform !== undefined &&
        wanted.some((platform) => platformSatisfies(descriptor.platform as Platform, platform));
    case "compatible": {
      const hosts = wanted.map((platform) => createPlatformMatcher(platform));
      return (descriptor) =>
        descriptor.platform !== undefined &&
        hosts.some((host) => host.match(descriptor.platform as Platform));
    }
    default:
      throw argument(
        `matchPlatforms: by must be "equals", "satisfies" or "compatible", got ${quote(by)}`,
      );
  }
}

/** @internal A selector as a matcher. */
export function toMatcher(selector: Selector, operation: string): DescriptorMatcher {
  if (typeof selector === "function") return selector;
  if (typeof selector === "string") {
    if (Hash.isValid(selector)) return matchDigests([selector]);
    if (selector === "") {
      throw new LayoutError(
        "an empty string selects nothing; give a reference name, a digest or a matcher",
        {
          code: "HOIST_LAYOUT_INVALID_ARGUMENT",
          operation,
        },
      );
    }
    return matchRefName(selector);
  }
  // A Hash, possibly from another copy of @hoist/oci: validated through its string form.
  if (typeof selector === "object" && selector !== null) return matchDigests([selector]);
  throw new LayoutError(
    `expected a reference name, a digest or a matcher function, got ${selector === null ? "null" : typeof selector}`,
    { code: "HOIST_LAYOUT_INVALID_ARGUMENT", operation },
  );
}

/** @internal Says what a selector asked for, in messages. */
export function describeSelector(selector: Selector): string {
  if (typeof selector === "function") return "the matcher";
  if (typeof selector === "string" && !Hash.isValid(selector))
    return `reference name ${quote(selector)}`;
  return `digest ${String(selector)}`;
}

/** @internal */
export function toPlatform(platform: Platform | string): Platform {
  if (typeof platform === "string") {
    try {
      return parsePlatform(platform);
    } catch (error) {
      throw new LayoutError(
        OciError.is(error) ? error.message : `invalid platform ${quote(platform)}`,
        {
          code: "HOIST_LAYOUT_INVALID_ARGUMENT",
          operation: "parse platform",
          cause: error,
        },
      );
    }
  }
  if (
    typeof platform !== "object" ||
    platform === null ||
    typeof platform.os !== "string" ||
    typeof platform.architecture !== "string"
  ) {
    throw argument(
      'a platform needs string "os" and "architecture" fields, or text such as "linux/arm64"',
    );
  }
  return platform;
}

function asArray<T>(value: ReadonlyArray<T>, name: string): readonly T[] {
  if (!Array.isArray(value)) throw argument(`${name} takes an array`);
  return value;
}

function argument(message: string): LayoutError {
  return new LayoutError(message, {
    code: "HOIST_LAYOUT_INVALID_ARGUMENT",
    operation: "match descriptors",
  });
}
