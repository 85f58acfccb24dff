import type { Registry } from "./registry.js";
import type { Repository } from "./repository.js";
import type { Scheme } from "./scheme.js";

/** What Tag and Digest share: a repository, the input as given, and access to both. */
export abstract class ReferenceBase {
  /** The repository the reference is in (also available as `context`). */
  readonly repository: Repository;
  readonly #input: string;

  protected constructor(repository: Repository, input: string) {
    this.repository = repository;
    this.#input = input;
  }

  /** The repository, as go-containerregistry's `Context()`. */
  get context(): Repository {
    return this.repository;
  }

  get registry(): Registry {
    return this.repository.registry;
  }

  /** The registry's scheme: "http" or "https". */
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
