import { ECRClient, type ECRClientConfig, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import {
  ECRPUBLICClient,
  type ECRPUBLICClientConfig,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from "@aws-sdk/client-ecr-public";
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
import { ECR_PUBLIC_HOST, type EcrRegistry, parseEcrHost } from "./ecr-host.js";

export interface EcrKeychainOptions {
  /**
   * Extra configuration for every ECR API client: `credentials` (default: the SDK's default
   * provider chain), `endpoint`, `maxAttempts`, a custom `requestHandler`. Region and FIPS come
   * from the registry host.
   */
  clientConfig?: Omit<ECRClientConfig, "region" | "useFipsEndpoint">;
  /** The same for the ECR Public client (its API lives in us-east-1). */
  publicClientConfig?: Omit<ECRPUBLICClientConfig, "region">;
  /** Ask ECR for a new token this long before the current one expires. Default 5 minutes. */
  refreshMarginMs?: number;
  /** Whether to serve public.ecr.aws. Default true. */
  ecrPublic?: boolean;
}

interface CachedToken {
  credential: Credential;
  expiresAt: number;
}

const DEFAULT_REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** The ECR API client for a registry: its region, FIPS when the host says so. */
export function createEcrClient(
  registry: EcrRegistry,
  config: EcrKeychainOptions["clientConfig"] = {},
): ECRClient {
  return new ECRClient({ ...config, region: registry.region, useFipsEndpoint: registry.fips });
}

export function createEcrPublicClient(
  config: EcrKeychainOptions["publicClientConfig"] = {},
): ECRPUBLICClient {
  return new ECRPUBLICClient({ ...config, region: "us-east-1" });
}

function isMissingCredentials(error: unknown): boolean {
  // The default provider chain found nothing (no env, profile, SSO, web identity, IMDS...).
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { name?: unknown }).name === "CredentialsProviderError"
  );
}

function providerFailure(host: string, error: unknown): AuthnError {
  const name = (error as { name?: string })?.name ?? "Error";
  const message = error instanceof Error ? error.message : String(error);
  return new AuthnError(
    `AWS GetAuthorizationToken for "${host}" failed (${name}: ${message}). Check the AWS credentials in use and their ecr:GetAuthorizationToken permission.`,
    {
      code: "HOIST_AUTHN_PROVIDER_FAILED",
      operation: "get ECR authorization token",
      registry: host,
      cause: error,
    },
  );
}

function invalidResponse(host: string, detail: string): AuthnError {
  return new AuthnError(
    `ECR answered GetAuthorizationToken for "${host}" without a usable token: ${detail}.`,
    {
      code: "HOIST_AUTHN_PROVIDER_INVALID_RESPONSE",
      operation: "get ECR authorization token",
      registry: host,
    },
  );
}

/** ECR tokens are base64 "AWS:<password>"; the password is what registries check. */
function decodeToken(
  host: string,
  token: string | undefined,
  expiresAt: Date | undefined,
): CachedToken {
  if (!token) throw invalidResponse(host, "no authorizationToken");
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw invalidResponse(host, 'the token is not base64 of "user:password"');
  return {
    credential: {
      kind: "basic",
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
    },
    // ECR tokens last 12 hours; an answer without expiry is trusted for one hour.
    expiresAt: expiresAt?.getTime() ?? Date.now() + 60 * 60 * 1000,
  };
}

/**
 * A keychain for Amazon ECR (`<account>.dkr.ecr.<region>.amazonaws.com`, FIPS, China, ISO and
 * dual-stack hosts) and ECR Public (`public.ecr.aws`), through the AWS SDK: credentials come
 * from the SDK's default provider chain (environment, profiles, SSO, web identity, ECS, EC2),
 * and tokens are cached until shortly before they expire. Without AWS credentials it answers
 * anonymous, so other keychains (or public pulls) can take over; any other failure is an error.
 */
export function ecrKeychain(options: EcrKeychainOptions = {}): Keychain {
  const margin = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const clients = new Map<string, ECRClient>();
  let publicClient: ECRPUBLICClient | undefined;
  const cache = new Map<string, CachedToken>();
  const inFlight = new Map<string, Promise<CachedToken | undefined>>();

  const fetchPrivate = async (host: string, registry: EcrRegistry, signal?: AbortSignal) => {
    const key = `${registry.region}/${registry.fips}/${registry.dnsSuffix}`;
    let client = clients.get(key);
    if (!client) {
      client = createEcrClient(registry, options.clientConfig);
      clients.set(key, client);
    }
    const output = await client.send(
      new GetAuthorizationTokenCommand({ registryIds: [registry.accountId] }),
      signal ? { abortSignal: signal } : {},
    );
    const data = output.authorizationData?.[0];
    if (!data) throw invalidResponse(host, "no authorizationData");
    return decodeToken(host, data.authorizationToken, data.expiresAt);
  };

  const fetchPublic = async (host: string, signal?: AbortSignal) => {
    publicClient ??= createEcrPublicClient(options.publicClientConfig);
    const output = await publicClient.send(
      new GetPublicAuthorizationTokenCommand({}),
      signal ? { abortSignal: signal } : {},
    );
    const data = output.authorizationData;
    if (!data) throw invalidResponse(host, "no authorizationData");
    return decodeToken(host, data.authorizationToken, data.expiresAt);
  };

  /** The current token for a host, from the cache or ECR; undefined without AWS credentials. */
  const token = (host: string, signal?: AbortSignal): Promise<CachedToken | undefined> => {
    const registry = parseEcrHost(host);
    const cacheKey = registry
      ? `${registry.accountId}/${registry.region}/${registry.fips}/${registry.dnsSuffix}`
      : host;
    const cached = cache.get(cacheKey);
    if (cached && cached.expiresAt - margin > Date.now()) return Promise.resolve(cached);
    const pending = inFlight.get(cacheKey);
    if (pending) return pending;
    const request = (async () => {
      try {
        const fresh = registry
          ? await fetchPrivate(host, registry, signal)
          : await fetchPublic(host, signal);
        cache.set(cacheKey, fresh);
        return fresh;
      } catch (error) {
        signal?.throwIfAborted();
        if (isMissingCredentials(error)) return undefined;
        if (AuthnError.is(error)) throw error;
        throw providerFailure(host, error);
      } finally {
        inFlight.delete(cacheKey);
      }
    })();
    inFlight.set(cacheKey, request);
    return request;
  };

  const serves = (host: string) =>
    parseEcrHost(host) !== undefined ||
    (options.ecrPublic !== false && host.toLowerCase() === ECR_PUBLIC_HOST);

  return Object.freeze({
    name: "aws-ecr",
    async resolve(resource: Resource, call: ResolveOptions = {}): Promise<Authenticator> {
      const host = resourceRegistryHost(resource);
      if (!serves(host)) return anonymous;
      const first = await token(host, call.signal);
      if (!first) return anonymous;
      return Object.freeze({
        async authorization(authCall: ResolveOptions = {}) {
          // Asked again before each token exchange: refresh a token near its expiry.
          const current = await token(host, authCall.signal);
          if (!current) {
            throw new AuthnError(`AWS credentials for "${host}" are no longer available.`, {
              code: "HOIST_AUTHN_PROVIDER_FAILED",
              operation: "get ECR authorization token",
              registry: host,
            });
          }
          return current.credential;
        },
      });
    },
  });
}
