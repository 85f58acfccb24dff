import { type INTERNAL, refuseDirectConstruction } from "./internal.js";
import type { ParseOptions } from "./options.js";
import { parseTag } from "./parse.js";
import type { Registry } from "./registry.js";
import type { Repository } from "./repository.js";
import type { Scheme } from "./scheme.js";

/** A reference by tag, e.g. "ubuntu:24.04" = "index.docker.io/library/ubuntu:24.04". */
export class Tag {
  readonly kind: "tag";
  /** The repository the tag is in (also available as `context`). */
  readonly repository: Repository;
  /** The tag, e.g. "24.04"; the default tag when the input named none. */
  readonly tag: string;
  /** Fully qualified: "index.docker.io/library/ubuntu:24.04". */
  readonly name: string;
  readonly #input: string;

  /** Not for direct use: build one with `Tag.parse`, `parseReference` or `repository.tag()`. */
  constructor(token: typeof INTERNAL, repository: Repository, tag: string, input: string) {
    refuseDirectConstruction(token, "Tag", "Tag.parse()");
    this.kind = "tag";
    this.repository = repository;
    this.tag = tag;
    this.name = `${repository.name}:${tag}`;
    this.#input = input;
    Object.freeze(this);
  }

  /**
   * Parses `[registry/]path[:tag]`.
   * @throws NameError (codes HOIST_NAME_INVALID_TAG, _REPOSITORY, _REGISTRY, _REFERENCE)
   */
  static parse(s: string, opts?: ParseOptions): Tag {
    return parseTag(s, opts);
  }

  /** The tag (what identifies the manifest within the repository). */
  get identifier(): string {
    return this.tag;
  }

  /** The repository, as go-containerregistry's `Context()`. */
  get context(): Repository {
    return this.repository;
  }

  get registry(): Registry {
    return this.repository.registry;
  }

  get scheme(): Scheme {
    return this.repository.registry.scheme;
  }

  /** The token scope for `action` on the repository: "repository:library/ubuntu:pull". */
  scope(action: string): string {
    return this.repository.scope(action);
  }

  /** The reference exactly as given (use `name` for the fully qualified form). */
  toString(): string {
    return this.#input;
  }

  toJSON(): string {
    return this.#input;
  }
}
