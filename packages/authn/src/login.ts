import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-write.js";
import { CREDENTIAL_FIELDS, encodeAuthField, HELPER_TOKEN_USERNAME } from "./auth-entry.js";
import { type ParsedConfig, parseConfig } from "./config-file.js";
import { helperFor } from "./config-lookup.js";
import { type ConfigLocationOptions, dockerConfigPath } from "./config-paths.js";
import type { Credential } from "./credential.js";
import { type CredentialHelperOptions, credentialHelper } from "./credential-helper.js";
import { AuthnError } from "./errors.js";
import {
  DOCKER_HUB_AUTH_KEY,
  DOCKER_HUB_HOST,
  isRegistryLevelKey,
  normalizedKeyHost,
  parseServer,
} from "./server-address.js";

/** What can be stored: anything but anonymous. */
export type LoginCredential = Exclude<Credential, { readonly kind: "anonymous" }>;

export interface ConfigWriteOptions extends ConfigLocationOptions {
  /** The config file to update. Default {@link dockerConfigPath} (DOCKER_CONFIG or ~/.docker). */
  configPath?: string;
  /** Milliseconds before a credential helper is killed. Default 30000. */
  helperTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface LoginResult {
  /** The config file that was read (and written, unless nothing changed). */
  readonly configPath: string;
  /** The key the credential is stored under ("https://index.docker.io/v1/" for Docker Hub). */
  readonly serverAddress: string;
  /** The credential helper suffix that stored the secret, when one is configured. */
  readonly helper?: string;
}

export interface LogoutResult extends LoginResult {
  /** Whether anything was stored for the server (in the file or the helper). */
  readonly removed: boolean;
}

// Serialises read-modify-write cycles on one file within this process.
const fileLocks = new Map<string, Promise<unknown>>();

async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = fileLocks.get(path) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(work);
  fileLocks.set(path, next);
  try {
    return await next;
  } finally {
    if (fileLocks.get(path) === next) fileLocks.delete(path);
  }
}

interface Target {
  serverAddress: string;
  host: string;
}

function target(server: string, operation: string): Target {
  const { host } = parseServer(server, operation);
  return { serverAddress: host === DOCKER_HUB_HOST ? DOCKER_HUB_AUTH_KEY : host, host };
}

async function readForUpdate(
  path: string,
  signal: AbortSignal | undefined,
): Promise<{ exists: boolean; config: ParsedConfig }> {
  let text: string | undefined;
  try {
    text = await readFile(path, { encoding: "utf8", ...(signal ? { signal } : {}) });
  } catch (error) {
    signal?.throwIfAborted();
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") {
      throw new AuthnError(
        `cannot read docker config "${path}" (${code ?? "I/O error"}); nothing was changed. Check its permissions.`,
        {
          code: "HOIST_AUTHN_CONFIG_UNREADABLE",
          operation: "update docker config",
          path,
          cause: error,
        },
      );
    }
  }
  // A corrupt file throws here, before anything is written: it is never overwritten.
  const config = parseConfig(text ?? "", path, "config");
  return { exists: text !== undefined, config };
}

/**
 * Writes the document back unless nothing changed (as docker skips an unchanged store), so a
 * file another tool formatted its own way is not rewritten for nothing.
 */
async function save(
  path: string,
  original: Record<string, unknown> | undefined,
  document: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<void> {
  if (original && JSON.stringify(original) === JSON.stringify(document)) return;
  try {
    // Tab-indented, as docker writes it.
    await writeFileAtomic(path, JSON.stringify(document, null, "\t"), {
      mode: 0o600,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    signal?.throwIfAborted();
    throw new AuthnError(
      `cannot write docker config "${path}" (${(error as NodeJS.ErrnoException).code ?? "I/O error"}); the previous file is unchanged.`,
      {
        code: "HOIST_AUTHN_CONFIG_WRITE_FAILED",
        operation: "update docker config",
        path,
        cause: error,
      },
    );
  }
}

/** The `auths` map of a document, created when missing; other fields are left as they are. */
function authsOf(document: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const auths = document.auths;
  if (typeof auths === "object" && auths !== null)
    return auths as Record<string, Record<string, unknown>>;
  const created: Record<string, Record<string, unknown>> = {};
  document.auths = created;
  return created;
}

/** An entry's fields other than credentials (email, and anything another tool added). */
function withoutCredentials(entry: Record<string, unknown> | undefined): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...(entry ?? {}) };
  for (const field of CREDENTIAL_FIELDS) delete kept[field];
  return kept;
}

function helperOptions(options: ConfigWriteOptions): CredentialHelperOptions {
  return {
    ...(options.env ? { env: options.env } : {}),
    ...(options.helperTimeoutMs !== undefined ? { timeoutMs: options.helperTimeoutMs } : {}),
  };
}

function checkCredential(credential: LoginCredential, server: string): void {
  const bad = (why: string) =>
    new AuthnError(`cannot log in to "${server}": ${why}`, {
      code: "HOIST_AUTHN_INVALID_ARGUMENT",
      operation: "log in",
      registry: server,
    });
  if (credential.kind === "basic") {
    // docker refuses to read an `auth` without a username, so never write one.
    if (!credential.username) throw bad("a username is required.");
    if (credential.username.includes(":")) throw bad("the username may not contain ':'.");
  } else if (!credential.token) {
    throw bad("the token is empty.");
  }
}

/**
 * Stores a credential for a registry the way `docker login` does: through the credential
 * helper configured for it (`credHelpers`, else `credsStore`), leaving an `auths` entry with no
 * secret; otherwise in `auths` as base64 `auth` (plus `identitytoken`/`registrytoken`). Every
 * other field of the file is preserved. The file is replaced atomically with mode 0600; a
 * corrupt file is reported and left untouched.
 */
export async function login(
  server: string,
  credential: LoginCredential,
  options: ConfigWriteOptions = {},
): Promise<LoginResult> {
  const { serverAddress, host } = target(server, "log in");
  checkCredential(credential, server);
  const path = options.configPath ?? dockerConfigPath(options);
  return withFileLock(path, async () => {
    const { exists, config } = await readForUpdate(path, options.signal);
    const document = structuredClone(config.document);
    const auths = authsOf(document);
    const existing = auths[serverAddress];
    const helper = helperFor(config, serverAddress, host);
    if (helper) {
      if (credential.kind === "registry-token") {
        throw new AuthnError(
          `cannot store a registry token for "${server}" through credential helper "docker-credential-${helper}": the helper protocol has no place for one. Remove the helper from the config, or log in with a username and password.`,
          { code: "HOIST_AUTHN_INVALID_ARGUMENT", operation: "log in", registry: server },
        );
      }
      await credentialHelper(helper, helperOptions(options)).store(
        credential.kind === "basic"
          ? { serverURL: serverAddress, username: credential.username, secret: credential.password }
          : { serverURL: serverAddress, username: HELPER_TOKEN_USERNAME, secret: credential.token },
        options.signal ? { signal: options.signal } : {},
      );
      // docker keeps an entry without secrets, which is how it lists where you are logged in.
      auths[serverAddress] = withoutCredentials(existing);
    } else {
      const entry = withoutCredentials(existing);
      if (credential.kind === "basic") {
        entry.auth = encodeAuthField(credential.username, credential.password);
      } else if (credential.kind === "identity-token") {
        if (credential.username) entry.auth = encodeAuthField(credential.username, "");
        entry.identitytoken = credential.token;
      } else {
        entry.registrytoken = credential.token;
      }
      auths[serverAddress] = entry;
    }
    await save(path, exists ? config.document : undefined, document, options.signal);
    return helper
      ? { configPath: path, serverAddress, helper }
      : { configPath: path, serverAddress };
  });
}

/** Whether an `auths` key names the registry itself (any scheme, "/", "/v1/" or "/v2/" path). */
function isRegistryKey(key: string, host: string): boolean {
  return normalizedKeyHost(key) === host.toLowerCase() && isRegistryLevelKey(key);
}

/**
 * Removes a registry's credential as `docker logout` does: erased from its credential helper
 * when one is configured, and every `auths` entry for the registry (with or without scheme,
 * Docker Hub under any of its names) is dropped. Nothing stored is not an error.
 */
export async function logout(
  server: string,
  options: ConfigWriteOptions = {},
): Promise<LogoutResult> {
  const { serverAddress, host } = target(server, "log out");
  const path = options.configPath ?? dockerConfigPath(options);
  return withFileLock(path, async () => {
    const { exists, config } = await readForUpdate(path, options.signal);
    const document = structuredClone(config.document);
    const helper = helperFor(config, serverAddress, host);
    let removed = false;
    if (helper) {
      removed = await credentialHelper(helper, helperOptions(options)).erase(
        serverAddress,
        options.signal ? { signal: options.signal } : {},
      );
    }
    const auths = document.auths;
    if (typeof auths === "object" && auths !== null) {
      for (const key of Object.keys(auths)) {
        if (isRegistryKey(key, host)) {
          delete (auths as Record<string, unknown>)[key];
          removed = true;
        }
      }
    }
    if (exists) await save(path, config.document, document, options.signal);
    const result = { configPath: path, serverAddress, removed };
    return helper ? { ...result, helper } : result;
  });
}
