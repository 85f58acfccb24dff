import { type INTERNAL, refuseDirectConstruction } from "./internal.js";
import type { ParseOptions } from "./options.js";
import { parseRegistry, repositoryOnRegistry } from "./parse.js";
import type { Repository } from "./repository.js";
import { type Scheme, schemeFor } from "./scheme.js";

/** A registry host, e.g. "index.docker.io", "ghcr.io", "localhost:5000", "[::1]:5000". */
export class Registry {
  /** `host[:port]`, with "docker.io" normalised to "index.docker.io". */
  readonly host: string;
  /** True when the registry was declared insecure (plain http whatever the host). */
  readonly insecure: boolean;
  /** "http" when insecure or local (loopback, `*.localhost`, `localhost:port`, RFC 1918), else "https". */
  readonly scheme: Scheme;

  /** Not for direct use: build one with `Registry.parse`. */
  constructor(token: typeof INTERNAL, host: string, insecure: boolean) {
    refuseDirectConstruction(token, "Registry", "Registry.parse()");
    this.host = host;
    this.insecure = insecure;
    this.scheme = schemeFor(host, insecure);
    Object.freeze(this);
  }

  /**
   * Parses `host[:port]`. An empty string means the default registry (an error when strict).
   * @throws NameError with code HOIST_NAME_INVALID_REGISTRY
   */
  static parse(s: string, opts?: ParseOptions): Registry {
    return parseRegistry(s, opts);
  }

  /** The same as `host`. */
  get name(): string {
    return this.host;
  }

  /**
   * A repository on this registry. On Docker Hub a single-component path gets the implicit
   * `library/` namespace.
   * @throws NameError with code HOIST_NAME_INVALID_REPOSITORY
   */
  repository(path: string): Repository {
    return repositoryOnRegistry(this, path);
  }

  /** The token scope for registry-wide access: always "registry:catalog:*". */
  scope(_action?: string): string {
    return "registry:catalog:*";
  }

  toString(): string {
    return this.host;
  }

  toJSON(): string {
    return this.host;
  }
}
