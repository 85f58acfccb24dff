import { type AuthEntry, entryCredential } from "./auth-entry.js";
import type { ParsedConfig } from "./config-file.js";
import type { Credential } from "./credential.js";
import {
  type CredentialHelperOptions,
  credentialFromHelper,
  credentialHelper,
} from "./credential-helper.js";
import { isRepositoryResource, type Resource, resourceRegistryHost } from "./resource.js";
import {
  DOCKER_HUB_AUTH_KEY,
  DOCKER_HUB_HOST,
  DOCKER_HUB_HOSTS,
  isDockerHubHost,
  isRegistryLevelKey,
  keyHost,
  normalizedKeyHost,
} from "./server-address.js";

export interface LookupOptions extends CredentialHelperOptions {
  signal?: AbortSignal;
}

/** Where a credential was found, for `auth get`-style reporting and for tests. */
export interface LookupResult {
  readonly credential: Credential;
  /** The key it was found under (an `auths` key, or the server address a helper was asked). */
  readonly key: string;
  /** The credential helper suffix that answered, when one did. */
  readonly helper?: string;
}

/** "a/b/c" → ["a/b/c", "a/b", "a"]: a repository, then its namespaces, most specific first. */
function pathPrefixes(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  const out: string[] = [];
  for (let n = parts.length; n > 0; n--) out.push(parts.slice(0, n).join("/"));
  return out;
}

/** The helper configured for a key: `credHelpers` by exact key, then (given the registry host) by host, else `credsStore`. */
export function helperFor(
  config: ParsedConfig,
  key: string,
  registryHost?: string,
): string | undefined {
  const exact = config.credHelpers[key];
  if (exact) return exact;
  if (registryHost !== undefined) {
    const wanted = isDockerHubHost(registryHost) ? DOCKER_HUB_HOST : registryHost.toLowerCase();
    for (const [helperKey, helper] of Object.entries(config.credHelpers)) {
      if (helper && normalizedKeyHost(helperKey) === wanted) return helper;
    }
  }
  return config.credsStore || undefined;
}

function exactEntry(
  config: ParsedConfig,
  keys: readonly string[],
): { key: string; entry: AuthEntry } | undefined {
  for (const key of keys) {
    const entry = config.auths.get(key);
    if (entry && entryCredential(entry)) return { key, entry };
  }
  return undefined;
}

/**
 * A registry's entry: the canonical key, then Docker Hub's other spellings, then any key whose
 * host matches once scheme and path are dropped ("https://host/v1/", "http://host"), in file
 * order, registry-level keys before keys with a repository path. docker matches the same keys,
 * but in random (Go map) order when several do.
 */
function registryEntry(
  config: ParsedConfig,
  host: string,
): { key: string; entry: AuthEntry } | undefined {
  const hub = isDockerHubHost(host);
  const exact = exactEntry(
    config,
    hub ? [DOCKER_HUB_AUTH_KEY, ...DOCKER_HUB_HOSTS, "registry-1.docker.io"] : [host],
  );
  if (exact) return exact;
  const wanted = hub ? DOCKER_HUB_HOST : keyHost(host);
  // Registry-level keys first; then, as docker's ConvertToHostname allows, keys with a path.
  for (const registryLevel of [true, false]) {
    for (const [key, entry] of config.auths) {
      if (isRegistryLevelKey(key) !== registryLevel) continue;
      if (normalizedKeyHost(key) === wanted && entryCredential(entry)) return { key, entry };
    }
  }
  return undefined;
}

/**
 * Finds the credential for a resource in one config document, by docker's rules:
 *
 * 1. A repository is first looked up under its own key ("host/path"), as ggcr does. A
 *    credential helper configured for that exact key (or the `credsStore`) is asked for it;
 *    without a helper, the `auths` entries for the repository and then each of its namespaces
 *    are tried (containers-auth.json's rule, which docker files simply never use).
 * 2. Then the registry: Docker Hub under "https://index.docker.io/v1/". The helper is the
 *    `credHelpers` entry for the registry, else `credsStore`; when one is configured the plain
 *    `auths` credentials are ignored, as docker ignores them.
 *
 * Entries with no credential (only an email, or `{}`) count as absent.
 */
export async function lookupCredential(
  config: ParsedConfig,
  resource: Resource,
  options: LookupOptions = {},
): Promise<LookupResult | undefined> {
  const host = resourceRegistryHost(resource);
  const hub = isDockerHubHost(host);
  const ask = async (helperName: string, key: string): Promise<LookupResult | undefined> => {
    const helper = credentialHelper(helperName, options);
    const answer = await helper.get(key, options.signal ? { signal: options.signal } : {});
    const credential = credentialFromHelper(answer);
    return credential ? { credential, key, helper: helperName } : undefined;
  };

  if (isRepositoryResource(resource) && resource.path) {
    const repoKey = `${hub ? DOCKER_HUB_HOST : host}/${resource.path}`;
    const helperName = helperFor(config, repoKey);
    if (helperName) {
      const found = await ask(helperName, repoKey);
      if (found) return found;
    } else {
      const hosts = hub ? DOCKER_HUB_HOSTS : [host];
      const keys = pathPrefixes(resource.path).flatMap((prefix) =>
        hosts.map((h) => `${h}/${prefix}`),
      );
      const found = exactEntry(config, keys);
      if (found) return { credential: entryCredential(found.entry) as Credential, key: found.key };
    }
  }

  const registryKey = hub ? DOCKER_HUB_AUTH_KEY : host;
  const helperName = helperFor(config, registryKey, host);
  if (helperName) return ask(helperName, registryKey);
  const found = registryEntry(config, host);
  return found
    ? { credential: entryCredential(found.entry) as Credential, key: found.key }
    : undefined;
}
