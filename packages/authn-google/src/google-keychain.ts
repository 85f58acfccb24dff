import {
  type Authenticator,
  AuthnError,
  anonymous,
  type Credential,
  type Keychain,
  type ResolveOptions,
  type Resource,
  resourceRegistryHost,
} from "@hoist/authn";
import { GoogleAuth } from "google-auth-library";

/** The user name Google registries expect with an OAuth2 access token as password. */
export const GOOGLE_TOKEN_USERNAME = "oauth2accesstoken";

/** The scope registry access needs; Container/Artifact Registry accept cloud-platform tokens. */
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** gcr.io, its regional hosts (*.gcr.io) and Artifact Registry (*-docker.pkg.dev). */
export function isGoogleRegistryHost(host: string): boolean {
  const bare = host.toLowerCase();
  return (
    bare === "gcr.io" ||
    /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.gcr\.io$/.test(bare) ||
    /^[a-z0-9]+(?:-[a-z0-9]+)*-docker\.pkg\.dev$/.test(bare)
  );
}

/** What the keychain needs from an auth client (every google-auth-library client fits). */
export interface AccessTokenSource {
  getAccessToken(): Promise<{ token?: string | null }>;
}

/**
 * What the keychain needs from google-auth-library's `GoogleAuth` (any instance fits). Typed
 * structurally so the library's own declarations stay out of this package's public types.
 */
export interface GoogleAuthLike {
  getClient(): Promise<AccessTokenSource>;
}

export interface GoogleKeychainOptions {
  /**
   * The GoogleAuth to take tokens from. Default: application default credentials
   * (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, the GCE/GKE/Cloud Run metadata server)
   * with the cloud-platform scope.
   */
  auth?: GoogleAuthLike;
  /** Also serve these hosts (e.g. a private Artifact Registry domain). */
  matches?: (host: string) => boolean;
}

function isMissingCredentials(error: unknown): boolean {
  // google-auth-library's one signal that ADC found nothing to use.
  return error instanceof Error && /Could not load the default credentials/i.test(error.message);
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

async function accessToken(client: AccessTokenSource, host: string): Promise<Credential> {
  let token: string | null | undefined;
  try {
    ({ token } = await client.getAccessToken());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new AuthnError(
      `getting a Google access token for "${host}" failed: ${message}. Check the application default credentials (gcloud auth application-default login, GOOGLE_APPLICATION_CREDENTIALS or the metadata server).`,
      {
        code: "HOIST_AUTHN_PROVIDER_FAILED",
        operation: "get Google access token",
        registry: host,
        cause: error,
      },
    );
  }
  if (!token) {
    throw new AuthnError(`Google returned no access token for "${host}".`, {
      code: "HOIST_AUTHN_PROVIDER_INVALID_RESPONSE",
      operation: "get Google access token",
      registry: host,
    });
  }
  return { kind: "basic", username: GOOGLE_TOKEN_USERNAME, password: token };
}

/**
 * A keychain for gcr.io and Artifact Registry using google-auth-library's application default
 * credentials: user `oauth2accesstoken`, an access token as password, refreshed by the library
 * before it expires. Without any Google credentials it answers anonymous; a credential that
 * exists but fails (a revoked key, an unreachable token endpoint) is an error.
 */
export function googleKeychain(options: GoogleKeychainOptions = {}): Keychain {
  const auth: GoogleAuthLike = options.auth ?? new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
  let client: Promise<AccessTokenSource> | undefined;
  const getClient = () => {
    // One client per keychain, as the library caches and refreshes its tokens; a failed
    // discovery is retried on the next resolve.
    client ??= auth.getClient().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
  const serves = (host: string) => isGoogleRegistryHost(host) || options.matches?.(host) === true;

  return Object.freeze({
    name: "google",
    async resolve(resource: Resource, call: ResolveOptions = {}): Promise<Authenticator> {
      const host = resourceRegistryHost(resource);
      if (!serves(host)) return anonymous;
      let authClient: AccessTokenSource;
      try {
        authClient = await raceAbort(getClient(), call.signal);
      } catch (error) {
        call.signal?.throwIfAborted();
        if (isMissingCredentials(error)) return anonymous;
        throw new AuthnError(
          `loading Google application default credentials for "${host}" failed: ${error instanceof Error ? error.message : String(error)}`,
          {
            code: "HOIST_AUTHN_PROVIDER_FAILED",
            operation: "load Google credentials",
            registry: host,
            cause: error,
          },
        );
      }
      // Fetch one token now, so a broken credential fails the lookup instead of the pull.
      await raceAbort(accessToken(authClient, host), call.signal);
      return Object.freeze({
        authorization: (authCall: ResolveOptions = {}) =>
          raceAbort(accessToken(authClient, host), authCall.signal),
      });
    },
  });
}
