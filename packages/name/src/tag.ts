import { type INTERNAL, refuseDirectConstruction } from "./internal.js";
import type { ParseOptions } from "./options.js";
import { parseTag } from "./parse.js";
import { ReferenceBase } from "./reference-base.js";
import type { Repository } from "./repository.js";

/** A reference by tag, e.g. "ubuntu:24.04" = "index.docker.io/library/ubuntu:24.04". */
export class Tag extends ReferenceBase {
  readonly kind: "tag";
  /** The tag, e.g. "24.04"; the default tag when the input named none. */
  readonly tag: string;
  /** Fully qualified: "index.docker.io/library/ubuntu:24.04". */
  readonly name: string;

  /** Not for direct use: build one with `Tag.parse`, `parseReference` or `repository.tag()`. */
  constructor(token: typeof INTERNAL, repository: Repository, tag: string, input: string) {
    refuseDirectConstruction(token, "Tag", "Tag.parse()");
    super(repository, input);
    this.kind = "tag";
    this.tag = tag;
    this.name = `${repository.name}:${tag}`;
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
}
