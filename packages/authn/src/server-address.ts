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

const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Whether a string is a plausible "host[:port]" (DNS name, IPv4 or bracketed IPv6). */
export function isValidHost(host: string): boolean {
  return HOST_PATTERN.test(host);
}
