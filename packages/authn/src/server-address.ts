import { Registry } from "@hoist/name";
import { AuthnError } from "./errors.js";

/**
 * The key docker files keep Docker Hub's credentials under, for historical reasons (it was the
 * v1 index's URL). docker, crane and podman all still read and write it.
 */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/** The host Docker Hub references resolve to (what @hoist/name calls the registry host). */
export const DOCKER_HUB_HOST = "index.docker.io";

/** Host names that all mean Docker Hub in `auths` keys written by one tool or another. */
const DOCKER_HUB_ALIASES = new Set(["index.docker.io", "docker.io", "registry-1.docker.io"]);

/** Host spellings of Docker Hub, most canonical first, for building lookup keys. */
export const DOCKER_HUB_HOSTS: readonly string[] = ["index.docker.io", "docker.io"];

/**
 * The host (and port) of a key that may carry a scheme and a path, e.g.
 * "https://registry.example:5000/v2/" → "registry.example:5000", "ghcr.io/org" → "ghcr.io".
 * Same result as docker's ConvertToHostname for every key docker writes.
 */
export function keyHost(key: string): string {
  const schemeEnd = key.indexOf("://");
  const rest = schemeEnd >= 0 ? key.slice(schemeEnd + 3) : key;
  const slash = rest.indexOf("/");
  const host = slash >= 0 ? rest.slice(0, slash) : rest;
  // URL hosts are case-insensitive; docker compares them verbatim, which only ever misses.
  return host.toLowerCase();
}

/** Whether a key names a whole registry: no path, or only "/", "/v1/", "/v2/" after the host. */
export function isRegistryLevelKey(key: string): boolean {
  const withoutScheme = key.includes("://") ? key.slice(key.indexOf("://") + 3) : key;
  const slash = withoutScheme.indexOf("/");
  const path = slash >= 0 ? withoutScheme.slice(slash) : "";
  return path === "" || /^\/(?:v[12]\/?)?$/.test(path);
}

export function isDockerHubHost(host: string): boolean {
  return DOCKER_HUB_ALIASES.has(host.toLowerCase());
}

/** A key's host with every Docker Hub spelling folded into "index.docker.io". */
export function normalizedKeyHost(key: string): string {
  const host = keyHost(key);
  return isDockerHubHost(host) ? DOCKER_HUB_HOST : host;
}

/**
 * The key a registry's credentials are stored under: Docker Hub's v1 URL for Docker Hub, the
 * bare host otherwise. Accepts what people type after `docker login` (a host, a URL).
 */
export function registryAuthKey(server: string): string {
  const host = normalizedKeyHost(server.trim());
  return host === DOCKER_HUB_HOST ? DOCKER_HUB_AUTH_KEY : host;
}

/**
 * The registry a server address names, as @hoist/name parses it: what people type after
 * `docker login` (a host, or a URL with scheme and path, which docker reduces to its host), with
 * every Docker Hub spelling folded into "index.docker.io".
 * @throws AuthnError HOIST_AUTHN_INVALID_ARGUMENT, with the NameError as cause
 */
export function parseServer(server: string, operation: string): Registry {
  const host = normalizedKeyHost(server.trim());
  try {
    if (!host) throw new Error("the address is empty");
    return Registry.parse(host, { strict: true });
  } catch (error) {
    throw new AuthnError(
      `${JSON.stringify(server)} is not a registry server address. Give a host such as "ghcr.io", "localhost:5000" or "docker.io".`,
      { code: "HOIST_AUTHN_INVALID_ARGUMENT", operation, registry: server, cause: error },
    );
  }
}
