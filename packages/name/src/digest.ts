import { type DigestAlgorithm, digestAlgorithm } from "./check.js";
import { type INTERNAL, refuseDirectConstruction } from "./internal.js";
import type { ParseOptions } from "./options.js";
import { parseDigest } from "./parse.js";
import { ReferenceBase } from "./reference-base.js";
import type { Repository } from "./repository.js";

/** A reference by digest, e.g. "ubuntu@sha256:<64 hex>". */
export class Digest extends ReferenceBase {
  readonly kind: "digest";
  /** The digest, e.g. "sha256:<64 hex>". */
  readonly digest: string;
  /** Fully qualified: "index.docker.io/library/ubuntu@sha256:<64 hex>" (any tag is dropped). */
  readonly name: string;

  /** Not for direct use: build one with `Digest.parse`, `parseReference` or `repository.digest()`. */
  constructor(token: typeof INTERNAL, repository: Repository, digest: string, input: string) {
    refuseDirectConstruction(token, "Digest", "Digest.parse()");
    super(repository, input);
    this.kind = "digest";
    this.digest = digest;
    this.name = `${repository.name}@${digest}`;
    Object.freeze(this);
  }

  /**
   * Parses `[registry/]path[:tag]@algorithm:hex`. A tag before the digest is validated and
   * then ignored: the digest alone identifies the content, so `name` drops it while
   * `toString()` keeps the input as given.
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
}
