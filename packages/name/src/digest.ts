import { type DigestAlgorithm, digestAlgorithm } from "./check.js";
import { type INTERNAL, refuseDirectConstruction } from "./internal.js";
import type { ParseOptions } from "./options.js";
import { parseDigest } from "./parse.js";
import type { Registry } from "./registry.js";
import type { Repository } from "./repository.js";
import type { Scheme } from "./scheme.js";

/** A reference by digest, e.g. "ubuntu@sha256:<64 hex>". */
export class Digest {
  readonly kind: "digest";
  /** The repository the digest is in (also available as `context`). */
  readonly repository: Repository;
  /** The digest, e.g. "sha256:<64 hex>". */
  readonly digest: string;
  /** Fully qualified: "index.docker.io/library/ubuntu@sha256:<64 hex>" (any tag is dropped). */
  readonly name: string;
  readonly #input: string;

  /** Not for direct use: build one with `Digest.parse`, `parseReference` or `repository.digest()`. */
  constructor(token: typeof INTERNAL, repository: Repository, digest: string, input: string) {
    refuseDirectConstruction(token, "Digest", "Digest.parse()");
    this.kind = "digest";
    this.repository = repository;
    this.digest = digest;
    this.name = `${repository.name}@${digest}`;
    this.#input = input;
    Object.freeze(this);
  }

  /**
   * Parses `[registry/]path[:tag]@algorithm:hex`. A tag before the digest is validated and
   * then ignored: the digest alone identifies the content.
   * @throws NameError (codes HOIST_NAME_INVALID_DIGEST, _TAG, _REPOSITORY, _REGISTRY, _REFERENCE)
   */
  static parse(s: string, opts?: ParseOptions): Digest {
    return parseDigest(s, opts);
  }

  /** The digest (what identifies the manifest within the repository). */
  get identifier(): string {
    return this.digest;
  }

  /** "sha256" or "sha512". */
  get algorithm(): DigestAlgorithm {
    return digestAlgorithm(this.digest);
  }

  /** The hex part of the digest. */
  get hex(): string {
    return this.digest.slice(this.digest.indexOf(":") + 1);
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

  /** The reference exactly as given, tag included (use `name` for the canonical form). */
  toString(): string {
    return this.#input;
  }

  toJSON(): string {
    return this.#input;
  }
}
