// The parsing rules of go-containerregistry's pkg/name, in one place. The classes call in
// here; everything they are built from has been validated first.

import { digestProblem, registryProblem, repositoryProblem, tagProblem } from "./check.js";
import { Digest } from "./digest.js";
import type { NameErrorCode } from "./errors.js";
import { fail, INTERNAL, type ParseContext, requireString } from "./internal.js";
import {
  DEFAULT_REGISTRY,
  DOCKER_HUB_ALIAS,
  type ParseOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.js";
import { Registry } from "./registry.js";
import { Repository } from "./repository.js";
import { Tag } from "./tag.js";
import { quote } from "./text.js";

// Docker Hub is the registry of most references; share one frozen instance.
let dockerHub: Registry | undefined;

function registryValue(host: string, insecure: boolean): Registry {
  if (host === DEFAULT_REGISTRY && !insecure) {
    dockerHub ??= new Registry(INTERNAL, DEFAULT_REGISTRY, false);
    return dockerHub;
  }
  return new Registry(INTERNAL, host, insecure);
}

// On Docker Hub, a single-component path lives in the "library" namespace.
function hasImplicitNamespace(path: string, host: string): boolean {
  return host === DEFAULT_REGISTRY && path.indexOf("/") < 0;
}

function registryPart(raw: string, opts: ResolvedOptions, ctx: ParseContext): Registry {
  if (raw === "" && opts.strict) {
    fail(
      ctx,
      "HOIST_NAME_INVALID_REGISTRY",
      'strict validation requires an explicit registry; put one first, as in "index.docker.io/library/ubuntu:latest"',
    );
  }
  const problem = registryProblem(raw);
  if (problem !== undefined) fail(ctx, "HOIST_NAME_INVALID_REGISTRY", problem);
  let host = raw === "" ? opts.defaultRegistry : raw;
  if (host === DOCKER_HUB_ALIAS) host = DEFAULT_REGISTRY;
  return registryValue(host, opts.insecure);
}

function isRegistryComponent(first: string): boolean {
  if (first === "localhost") return true;
  for (let i = 0; i < first.length; i++) {
    const c = first.charCodeAt(i);
    if (c === 0x2e || c === 0x3a) return true;
  }
  return false;
}

function repositoryPart(s: string, opts: ResolvedOptions, ctx: ParseContext): Repository {
  if (s === "") fail(ctx, "HOIST_NAME_INVALID_REPOSITORY", "no repository name was given");
  let registry = "";
  let path = s;
  const slash = s.indexOf("/");
  if (slash >= 0) {
    const first = s.slice(0, slash);
    if (isRegistryComponent(first)) {
      registry = first;
      path = s.slice(slash + 1);
    }
  }
  const problem = repositoryProblem(path);
  if (problem !== undefined) fail(ctx, "HOIST_NAME_INVALID_REPOSITORY", problem);
  const reg = registryPart(registry, opts, ctx);
  if (hasImplicitNamespace(path, reg.host)) {
    if (opts.strict) {
      fail(
        ctx,
        "HOIST_NAME_INVALID_REPOSITORY",
        `strict validation requires the full path on Docker Hub; write ${quote(`${DEFAULT_REGISTRY}/library/${path}`)}`,
      );
    }
    path = `library/${path}`;
  }
  return new Repository(INTERNAL, reg, path);
}

/**
 * Splits `base:tag` at the last ":" when no "/" follows it (so "host:5000/repo" has no tag).
 * Returns the index of that ":" or -1.
 */
function tagColon(s: string): number {
  const colon = s.lastIndexOf(":");
  if (colon < 0 || s.indexOf("/", colon + 1) >= 0) return -1;
  return colon;
}

function checkTag(tag: string, ctx: ParseContext): void {
  if (tag === "") {
    fail(ctx, "HOIST_NAME_INVALID_TAG", 'nothing follows the ":"; add a tag after it or remove it');
  }
  const problem = tagProblem(tag);
  if (problem !== undefined) fail(ctx, "HOIST_NAME_INVALID_TAG", problem);
}

function tagReference(s: string, opts: ResolvedOptions, ctx: ParseContext): Tag {
  if (s.indexOf("@") >= 0) {
    fail(
      ctx,
      "HOIST_NAME_INVALID_REFERENCE",
      'a tag reference cannot contain "@"; a digest reference is parsed with Digest.parse or parseReference',
    );
  }
  const colon = tagColon(s);
  let tag = opts.defaultTag;
  let base = s;
  if (colon >= 0) {
    tag = s.slice(colon + 1);
    base = s.slice(0, colon);
    checkTag(tag, ctx);
  } else if (opts.strict) {
    fail(
      ctx,
      "HOIST_NAME_INVALID_TAG",
      'strict validation requires an explicit tag; add ":<tag>" (for example ":latest") or use a digest',
    );
  }
  return new Tag(INTERNAL, repositoryPart(base, opts, ctx), tag, s);
}

function digestReference(s: string, opts: ResolvedOptions, ctx: ParseContext): Digest {
  const at = s.indexOf("@");
  if (at < 0) {
    fail(
      ctx,
      "HOIST_NAME_INVALID_REFERENCE",
      'a digest reference needs "@" and a digest, as in "ubuntu@sha256:" followed by 64 hex characters',
    );
  }
  if (s.indexOf("@", at + 1) >= 0) {
    fail(
      ctx,
      "HOIST_NAME_INVALID_REFERENCE",
      'it contains more than one "@"; a reference has exactly one "@", before the digest',
    );
  }
  const digest = s.slice(at + 1);
  const problem = digestProblem(digest);
  if (problem !== undefined) fail(ctx, "HOIST_NAME_INVALID_DIGEST", problem);
  // A tag before the digest is checked but not kept: the digest alone names the content.
  // Parsing the rest directly (ggcr re-parses the tag's full name) avoids ggcr's quirk of
  // repeating a custom default registry that has no "." or ":".
  let base = s.slice(0, at);
  const colon = tagColon(base);
  if (colon >= 0) {
    checkTag(base.slice(colon + 1), ctx);
    base = base.slice(0, colon);
  }
  return new Digest(INTERNAL, repositoryPart(base, opts, ctx), digest, s);
}

function context(operation: string, subject: string, input: string): ParseContext {
  return { operation, subject, input };
}

type PartParser<T> = (s: string, opts: ResolvedOptions, ctx: ParseContext) => T;

/** The common start of every public parse: check the input type and the options. */
function entry<T>(
  operation: string,
  subject: string,
  code: NameErrorCode,
  s: string,
  opts: ParseOptions | undefined,
  parse: PartParser<T>,
): T {
  requireString(s, operation, subject, code);
  return parse(s, resolveOptions(opts, operation), context(operation, subject, s));
}

export function parseRegistry(s: string, opts: ParseOptions | undefined): Registry {
  return entry("parse registry", "registry", "HOIST_NAME_INVALID_REGISTRY", s, opts, registryPart);
}

export function parseRepository(s: string, opts: ParseOptions | undefined): Repository {
  const code = "HOIST_NAME_INVALID_REPOSITORY";
  return entry("parse repository", "repository", code, s, opts, repositoryPart);
}

export function parseTag(s: string, opts: ParseOptions | undefined): Tag {
  const code = "HOIST_NAME_INVALID_REFERENCE";
  return entry("parse tag", "tag reference", code, s, opts, tagReference);
}

export function parseDigest(s: string, opts: ParseOptions | undefined): Digest {
  const code = "HOIST_NAME_INVALID_REFERENCE";
  return entry("parse digest", "digest reference", code, s, opts, digestReference);
}

// ggcr tries a tag first and then a digest; no string with "@" is a valid tag and none
// without one is a valid digest, so the "@" decides, and the specific error survives.
function anyReference(s: string, opts: ResolvedOptions, ctx: ParseContext): Reference {
  return s.indexOf("@") >= 0 ? digestReference(s, opts, ctx) : tagReference(s, opts, ctx);
}

/** A reference to a manifest: by tag or by digest. Narrow with `ref.kind`. */
export type Reference = Tag | Digest;

/**
 * Parses an image reference: a Digest when it contains "@", otherwise a Tag.
 * `repo:tag@digest` is a Digest whose `name` drops the tag and whose `toString()` keeps it.
 * Unlike go-containerregistry, the error says exactly which part is wrong.
 * @throws NameError
 */
export function parseReference(s: string, opts?: ParseOptions): Reference {
  const code = "HOIST_NAME_INVALID_REFERENCE";
  return entry("parse reference", "reference", code, s, opts, anyReference);
}

export function repositoryOnRegistry(registry: Registry, path: string): Repository {
  requireString(path, "create repository", "repository", "HOIST_NAME_INVALID_REPOSITORY");
  const ctx = context("create repository", "repository", path);
  const problem = repositoryProblem(path);
  if (problem !== undefined) fail(ctx, "HOIST_NAME_INVALID_REPOSITORY", problem);
  const full = hasImplicitNamespace(path, registry.host) ? `library/${path}` : path;
  return new Repository(INTERNAL, registry, full);
}

export function tagOnRepository(repository: Repository, tag: string): Tag {
  requireString(tag, "create tag", "tag", "HOIST_NAME_INVALID_TAG");
  const ctx = context("create tag", "tag", tag);
  const problem = tag === "" ? "the tag is empty" : tagProblem(tag);
  if (problem !== undefined) fail(ctx, "HOIST_NAME_INVALID_TAG", problem);
  // As in ggcr, a tag built from a repository prints as its fully qualified name.
  return new Tag(INTERNAL, repository, tag, `${repository.name}:${tag}`);
}

export function digestOnRepository(repository: Repository, digest: string): Digest {
  requireString(digest, "create digest", "digest", "HOIST_NAME_INVALID_DIGEST");
  const ctx = context("create digest", "digest", digest);
  const problem = digestProblem(digest);
  if (problem !== undefined) fail(ctx, "HOIST_NAME_INVALID_DIGEST", problem);
  return new Digest(INTERNAL, repository, digest, `${repository.name}@${digest}`);
}
