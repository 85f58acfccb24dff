/**
 * The registry side of a resource: `Registry` from @hoist/name satisfies it. Structural, so
 * keychains can be written and tested without constructing parsed names.
 */
export interface RegistryResource {
  /** "host[:port]", e.g. "index.docker.io" or "127.0.0.1:5000". */
  readonly host: string;
  toString(): string;
}

/** A repository: `Repository` (and `Tag`/`Digest` through `.context`) from @hoist/name. */
export interface RepositoryResource {
  readonly registry: RegistryResource;
  /** Path inside the registry, e.g. "library/ubuntu". */
  readonly path: string;
  /** Fully qualified, e.g. "index.docker.io/library/ubuntu". */
  readonly name: string;
  toString(): string;
}

/** What credentials are asked for: a whole registry, or one repository in it. */
export type Resource = RegistryResource | RepositoryResource;

export function isRepositoryResource(resource: Resource): resource is RepositoryResource {
  return typeof (resource as RepositoryResource).path === "string";
}

/** The registry host a resource belongs to. */
export function resourceRegistryHost(resource: Resource): string {
  return isRepositoryResource(resource) ? resource.registry.host : resource.host;
}

/** "host" for a registry, "host/path" for a repository: the key docker looks up first. */
export function resourceKey(resource: Resource): string {
  return isRepositoryResource(resource)
    ? `${resource.registry.host}/${resource.path}`
    : resource.host;
}
