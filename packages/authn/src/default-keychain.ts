import {
  type ConfigFormat,
  type ParsedConfig,
  parseEnvConfig,
  readConfigFile,
} from "./config-file.js";
import { type LookupResult, lookupCredential } from "./config-lookup.js";
import { type ConfigLocationOptions, credentialFiles } from "./config-paths.js";
import { anonymous, fromCredential } from "./credential.js";
import type { CredentialHelperOptions } from "./credential-helper.js";
import type { Keychain, ResolveOptions } from "./keychain.js";
import type { Resource } from "./resource.js";

export interface ConfigFileKeychainOptions {
  /** The file to read; re-read on every resolve, so a login in between is seen. */
  path: string;
  /** Default "config" (config.json / auth.json); "dockercfg" for the legacy ~/.dockercfg. */
  format?: ConfigFormat;
  /** Environment for credential helpers (PATH). Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds before a credential helper is killed. Default 30000. */
  helperTimeoutMs?: number;
  /** Shown in error reports. Default "config-file:<path>". */
  name?: string;
}

/** Where {@link findCredential} found a credential. */
export interface FoundCredential extends LookupResult {
  /** The file path, or "DOCKER_AUTH_CONFIG". */
  readonly source: string;
}

function helperOptions(options: {
  env?: Readonly<Record<string, string | undefined>>;
  helperTimeoutMs?: number;
}): CredentialHelperOptions {
  return {
    ...(options.env ? { env: options.env } : {}),
    ...(options.helperTimeoutMs !== undefined ? { timeoutMs: options.helperTimeoutMs } : {}),
  };
}

async function findIn(
  config: ParsedConfig | undefined,
  resource: Resource,
  options: CredentialHelperOptions & { signal?: AbortSignal },
): Promise<FoundCredential | undefined> {
  if (!config) return undefined;
  const found = await lookupCredential(config, resource, options);
  return found ? { ...found, source: config.source } : undefined;
}

/** A keychain over one config file, with docker's lookup rules and credential helpers. */
export function configFileKeychain(options: ConfigFileKeychainOptions): Keychain {
  const format = options.format ?? "config";
  const helpers = helperOptions(options);
  return Object.freeze({
    name: options.name ?? `config-file:${options.path}`,
    async resolve(resource: Resource, call: ResolveOptions = {}) {
      const config = await readConfigFile(options.path, format, call);
      const found = await findIn(config, resource, { ...helpers, ...call });
      return found ? fromCredential(found.credential) : anonymous;
    },
  });
}

export interface DefaultKeychainOptions extends ConfigLocationOptions {
  /** Milliseconds before a credential helper is killed. Default 30000. */
  helperTimeoutMs?: number;
}

/**
 * Looks a resource up the way {@link defaultKeychain} does and says where the credential came
 * from. Undefined when no source has one. Sources, in order: DOCKER_AUTH_CONFIG, docker's
 * config.json, the containers auth files, ~/.dockercfg; the first with a credential wins.
 */
export async function findCredential(
  resource: Resource,
  options: DefaultKeychainOptions & { signal?: AbortSignal } = {},
): Promise<FoundCredential | undefined> {
  const vars = options.env ?? process.env;
  const call = { ...helperOptions(options), ...(options.signal ? { signal: options.signal } : {}) };
  const inline = vars.DOCKER_AUTH_CONFIG;
  if (inline) {
    // docker consults it before its stores; it only ever holds plain `auth` entries.
    const found = await findIn(parseEnvConfig(inline), resource, call);
    if (found) return found;
  }
  for (const file of credentialFiles(options)) {
    options.signal?.throwIfAborted();
    const found = await findIn(await readConfigFile(file.path, file.format, call), resource, call);
    if (found) return found;
  }
  return undefined;
}

/**
 * The keychain docker, podman and crane users expect: DOCKER_AUTH_CONFIG, docker's
 * config.json (DOCKER_CONFIG or ~/.docker) with its credHelpers/credsStore, the containers
 * auth files (REGISTRY_AUTH_FILE or $XDG_RUNTIME_DIR/containers/auth.json, then
 * ~/.config/containers/auth.json) and the legacy ~/.dockercfg. Missing files are skipped; a
 * broken file or helper is an error. Files are read on every resolve.
 */
export function defaultKeychain(options: DefaultKeychainOptions = {}): Keychain {
  return Object.freeze({
    name: "default",
    async resolve(resource: Resource, call: ResolveOptions = {}) {
      const found = await findCredential(resource, { ...options, ...call });
      return found ? fromCredential(found.credential) : anonymous;
    },
  });
}
