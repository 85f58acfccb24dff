import {
  DefaultAzureCredential,
  type DefaultAzureCredentialOptions,
  type TokenCredential,
} from "@azure/identity";
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
import { type Dispatcher, EnvHttpProxyAgent, fetch } from "undici";
import { AZURE_PUBLIC_SCOPE, parseAcrHost } from "./acr-host.js";

/** The username ACR expects with a refresh token (`docker login` prints it for `az acr login --expose-token`). */
export const ACR_REFRESH_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";

export interface AcrKeychainOptions {
  /** Where AAD tokens come from. Default `new DefaultAzureCredential(credentialOptions)`. */
  credential?: TokenCredential;
  /** Options for the default DefaultAzureCredential (managed identity client id, tenant, ...). */
  credentialOptions?: DefaultAzureCredentialOptions;
  /** The AAD scope to request. Default: the cloud's Resource Manager audience, by registry suffix. */
  scope?: string;
  /** The tenant sent to /oauth2/exchange. Default: the `tid` claim of the AAD token. */
  tenantId?: string;
  /** Also serve these hosts (a registry behind a custom domain), with the public cloud's scope. */
  matches?: (host: string) => boolean;
  /** Exchange a new refresh token this long before the current one expires. Default 5 minutes. */
  refreshMarginMs?: number;
  /** HTTP dispatcher for /oauth2/exchange. Default: undici's EnvHttpProxyAgent (honours HTTPS_PROXY, NO_PROXY). */
  dispatcher?: Dispatcher;
}

interface CachedRefresh {
  credential: Credential;
  expiresAt: number;
}

const DEFAULT_REFRESH_MARGIN_MS = 5 * 60 * 1000;
let sharedDispatcher: Dispatcher | undefined;

/** One proxy-aware dispatcher for every keychain that was not given its own. */
function defaultDispatcher(): Dispatcher {
  sharedDispatcher ??= new EnvHttpProxyAgent();
  return sharedDispatcher;
}

function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** Whether DefaultAzureCredential found no source at all (as opposed to a source that failed). */
function isUnavailable(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name;
  if (name === "CredentialUnavailableError") return true;
  if (name === "AggregateAuthenticationError") {
    const errors = (error as { errors?: unknown[] }).errors ?? [];
    return errors.every((e) => {
      const inner = (e as { name?: unknown })?.name;
      return inner === "CredentialUnavailableError" || inner === "AuthenticationRequiredError";
    });
  }
  return false;
}

function failure(host: string, what: string, error?: unknown): AuthnError {
  // Azure's messages put the Entra error code (AADSTS...) on later lines: keep them, on one line.
  const message = error instanceof Error ? error.message.replace(/\s+/g, " ").trim() : "";
  const detail = message ? `: ${message.length > 600 ? `${message.slice(0, 600)}…` : message}` : "";
  return new AuthnError(`${what} for "${host}" failed${detail}`, {
    code: "HOIST_AUTHN_PROVIDER_FAILED",
    operation: "get ACR refresh token",
    registry: host,
    ...(error === undefined ? {} : { cause: error }),
  });
}

/**
 * A keychain for Azure Container Registry (`*.azurecr.io`, and `.azurecr.cn`, `.azurecr.us`,
 * `.azurecr.de` in the sovereign clouds): it gets a Microsoft Entra (AAD) token from
 * `DefaultAzureCredential` (environment, workload identity, managed identity, Azure CLI, ...),
 * exchanges it at the registry's `/oauth2/exchange` for an ACR refresh token, and yields that
 * as an identity-token credential, which the transport trades for access tokens. Refresh
 * tokens are cached until shortly before they expire. Without any Azure credential it answers
 * anonymous; a credential or exchange that fails is an error.
 */
export function acrKeychain(options: AcrKeychainOptions = {}): Keychain {
  const margin = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  let credential = options.credential;
  const cache = new Map<string, CachedRefresh>();
  const inFlight = new Map<string, Promise<CachedRefresh | undefined>>();

  const exchange = async (
    host: string,
    scope: string,
    signal?: AbortSignal,
  ): Promise<CachedRefresh | undefined> => {
    credential ??= new DefaultAzureCredential(options.credentialOptions ?? {});
    let aad: string;
    try {
      const token = await credential.getToken(scope, signal ? { abortSignal: signal } : {});
      if (!token?.token) throw new Error("the credential returned no token");
      aad = token.token;
    } catch (error) {
      signal?.throwIfAborted();
      if (isUnavailable(error)) return undefined;
      throw failure(host, "getting a Microsoft Entra token", error);
    }
    const tenant = options.tenantId ?? jwtClaims(aad)?.tid;
    const form = new URLSearchParams({
      grant_type: "access_token",
      service: host,
      access_token: aad,
    });
    if (typeof tenant === "string" && tenant) form.set("tenant", tenant);
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(`https://${host}/oauth2/exchange`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form.toString(),
        dispatcher: options.dispatcher ?? defaultDispatcher(),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      signal?.throwIfAborted();
      throw failure(host, "the ACR token exchange (POST /oauth2/exchange)", error);
    }
    const text = await response.text();
    if (!response.ok) {
      // ACR's error bodies name the problem (UNAUTHORIZED, a missing role); they carry no token.
      throw new AuthnError(
        `ACR refused the token exchange for "${host}" (HTTP ${response.status}): ${text.slice(0, 300)}. Check that the identity has the AcrPull (or AcrPush) role on the registry.`,
        { code: "HOIST_AUTHN_PROVIDER_FAILED", operation: "get ACR refresh token", registry: host },
      );
    }
    let refresh: unknown;
    try {
      refresh = (JSON.parse(text) as { refresh_token?: unknown }).refresh_token;
    } catch {
      refresh = undefined;
    }
    if (typeof refresh !== "string" || !refresh) {
      throw new AuthnError(
        `ACR answered the token exchange for "${host}" without a refresh_token.`,
        {
          code: "HOIST_AUTHN_PROVIDER_INVALID_RESPONSE",
          operation: "get ACR refresh token",
          registry: host,
        },
      );
    }
    const exp = jwtClaims(refresh)?.exp;
    return {
      credential: { kind: "identity-token", token: refresh, username: ACR_REFRESH_TOKEN_USERNAME },
      // ACR refresh tokens last three hours; one without an `exp` is trusted for one.
      expiresAt: typeof exp === "number" ? exp * 1000 : Date.now() + 60 * 60 * 1000,
    };
  };

  const refreshToken = (host: string, scope: string, signal?: AbortSignal) => {
    const cached = cache.get(host);
    if (cached && cached.expiresAt - margin > Date.now()) return Promise.resolve(cached);
    const pending = inFlight.get(host);
    if (pending) return pending;
    const request = exchange(host, scope, signal)
      .then((fresh) => {
        if (fresh) cache.set(host, fresh);
        return fresh;
      })
      .finally(() => inFlight.delete(host));
    inFlight.set(host, request);
    return request;
  };

  return Object.freeze({
    name: "azure-acr",
    async resolve(resource: Resource, call: ResolveOptions = {}): Promise<Authenticator> {
      const host = resourceRegistryHost(resource).toLowerCase();
      const acr = parseAcrHost(host);
      if (!acr && !options.matches?.(host)) return anonymous;
      const scope = options.scope ?? acr?.scope ?? AZURE_PUBLIC_SCOPE;
      const first = await refreshToken(host, scope, call.signal);
      if (!first) return anonymous;
      return Object.freeze({
        async authorization(authCall: ResolveOptions = {}) {
          const current = await refreshToken(host, scope, authCall.signal);
          if (!current)
            throw failure(host, "Azure credentials are no longer available; getting a token");
          return current.credential;
        },
      });
    },
  });
}
