import type { Digest } from "./digest.js";
import { type INTERNAL, refuseDirectConstruction } from "./internal.js";
import type { ParseOptions } from "./options.js";
import { digestOnRepository, parseRepository, tagOnRepository } from "./parse.js";
import type { Registry } from "./registry.js";
import type { Scheme } from "./scheme.js";
import type { Tag } from "./tag.js";

/** A repository on a registry, e.g. "index.docker.io/library/ubuntu". */
export class Repository {
  readonly registry: Registry;
  /** The path on the registry, with the implicit `library/` on Docker Hub: "library/ubuntu". */
  readonly path: string;
  /** Fully qualified: "index.docker.io/library/ubuntu". */
  readonly name: string;

  /** Not for direct use: build one with `Repository.parse` or `registry.repository()`. */
  constructor(token: typeof INTERNAL, registry: Registry, path: string) {
    refuseDirectConstruction(token, "Repository", "Repository.parse()");
    this.registry = registry;
    this.path = path;
    this.name = `${registry.host}/${path}`;
    Object.freeze(this);
  }

  /**
   * Parses `[registry/]path`. The first component is the registry when it is "localhost" or
   * contains "." or ":"; otherwise the whole string is a path on the default registry.
   * @throws NameError with codes HOIST_NAME_INVALID_REPOSITORY or HOIST_NAME_INVALID_REGISTRY
   */
  static parse(s: string, opts?: ParseOptions): Repository {
    return parseRepository(s, opts);
  }

  /** The registry's scheme: "http" or "https". */
  get scheme(): Scheme {
    return this.registry.scheme;
  }

  /**
   * A tag in this repository; its `toString()` is its fully qualified name.
   * @throws NameError with code HOIST_NAME_INVALID_TAG
   */
  tag(tag: string): Tag {
    return tagOnRepository(this, tag);
  }

  /**
   * A digest in this repository ("sha256:<64 hex>" or "sha512:<128 hex>").
   * @throws NameError with code HOIST_NAME_INVALID_DIGEST
   */
  digest(digest: string): Digest {
    return digestOnRepository(this, digest);
  }

  /** The token scope for `action` ("pull", "push", ...): "repository:library/ubuntu:pull". */
  scope(action: string): string {
    return `repository:${this.path}:${action}`;
  }

  toString(): string {
    return this.name;
  }

  toJSON(): string {
    return this.name;
  }
}
