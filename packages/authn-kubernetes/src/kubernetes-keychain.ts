import {
  type Authenticator,
  AuthnError,
  anonymous,
  fromCredential,
  type Keychain,
  type Resource,
} from "@hoist/authn";
import { CoreV1Api, KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { matchPullSecret } from "./kubelet-match.js";
import { type PullSecret, type PullSecretEntry, readPullSecrets } from "./pull-secrets.js";

export interface PullSecretKeychainOptions {
  /** Shown in error reports. Default "kubernetes". */
  name?: string;
  /** Told about secrets that are skipped (wrong type, no data). Default: ignored. */
  onWarning?: (message: string) => void;
}

function keychainFromEntries(entries: readonly PullSecretEntry[], name: string): Keychain {
  return Object.freeze({
    name,
    async resolve(resource: Resource): Promise<Authenticator> {
      const found = matchPullSecret(entries, resource);
      return found ? fromCredential(found.credential) : anonymous;
    },
  });
}

/**
 * A keychain over pull secrets you already have as objects (from the API, a manifest, a test):
 * `kubernetes.io/dockerconfigjson` and legacy `kubernetes.io/dockercfg` secrets, matched with
 * the kubelet's rules. Throws HOIST_AUTHN_SECRET_INVALID for a secret it cannot parse.
 */
export function pullSecretKeychain(
  secrets: readonly PullSecret[],
  options: PullSecretKeychainOptions = {},
): Keychain {
  return keychainFromEntries(
    readPullSecrets(secrets, options.onWarning),
    options.name ?? "kubernetes",
  );
}

/**
 * A `KubeConfig` from @kubernetes/client-node (any instance fits). Typed structurally so the
 * client's own declarations stay out of this package's public types.
 */
export interface KubeConfigLike {
  makeApiClient(apiClientType: never): unknown;
}

export interface KubernetesKeychainOptions extends PullSecretKeychainOptions {
  /** The cluster to ask. Default: KubeConfig.loadFromDefault() (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeConfig?: KubeConfigLike;
  /** Default "default". */
  namespace?: string;
  /** The service account whose imagePullSecrets are read. Default "default". */
  serviceAccountName?: string;
  /** Skip the service account; use only `imagePullSecrets`. */
  noServiceAccount?: boolean;
  /** Secrets to read by name, before the service account's. */
  imagePullSecrets?: readonly string[];
  /** Also read the service account's `.secrets` (mountable secrets), after its imagePullSecrets. */
  useMountSecrets?: boolean;
  signal?: AbortSignal;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

// The listener goes when the call settles: a long-lived signal must not collect one per read.
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

function apiFailure(what: string, error: unknown): AuthnError {
  const status = statusOf(error);
  return new AuthnError(
    `reading ${what} from the Kubernetes API failed${status ? ` (HTTP ${status})` : ""}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}. Check the kubeconfig and that it may get secrets and serviceaccounts in the namespace.`,
    { code: "HOIST_AUTHN_PROVIDER_FAILED", operation: "read pull secrets", cause: error },
  );
}

/**
 * Loads pull secrets from a cluster with @kubernetes/client-node, in ggcr's order: the named
 * `imagePullSecrets`, then the service account's `imagePullSecrets`, then (with
 * `useMountSecrets`) its `.secrets`. A missing secret or service account is a warning, as for
 * the kubelet; any other API failure is an error. The secrets are read once, here.
 */
export async function kubernetesKeychain(
  options: KubernetesKeychainOptions = {},
): Promise<Keychain> {
  const namespace = options.namespace ?? "default";
  const warn = options.onWarning ?? (() => {});
  let kubeConfig = options.kubeConfig as KubeConfig | undefined;
  if (!kubeConfig) {
    kubeConfig = new KubeConfig();
    try {
      kubeConfig.loadFromDefault();
    } catch (error) {
      throw new AuthnError(
        `loading the Kubernetes configuration failed: ${error instanceof Error ? error.message : String(error)}`,
        {
          code: "HOIST_AUTHN_PROVIDER_FAILED",
          operation: "load kubeconfig",
          cause: error,
        },
      );
    }
  }
  const api = kubeConfig.makeApiClient(CoreV1Api);

  const names: string[] = [...(options.imagePullSecrets ?? [])];
  if (!options.noServiceAccount) {
    const accountName = options.serviceAccountName ?? "default";
    try {
      const account = await abortable(
        api.readNamespacedServiceAccount({ name: accountName, namespace }),
        options.signal,
      );
      for (const ref of account.imagePullSecrets ?? []) if (ref.name) names.push(ref.name);
      if (options.useMountSecrets)
        for (const ref of account.secrets ?? []) if (ref.name) names.push(ref.name);
    } catch (error) {
      options.signal?.throwIfAborted();
      if (statusOf(error) !== 404)
        throw apiFailure(`service account "${namespace}/${accountName}"`, error);
      warn(
        `service account "${namespace}/${accountName}" not found; using only the named pull secrets`,
      );
    }
  }

  const secrets: V1Secret[] = [];
  for (const name of names) {
    try {
      secrets.push(await abortable(api.readNamespacedSecret({ name, namespace }), options.signal));
    } catch (error) {
      options.signal?.throwIfAborted();
      if (statusOf(error) !== 404) throw apiFailure(`secret "${namespace}/${name}"`, error);
      warn(`pull secret "${namespace}/${name}" not found; skipped`);
    }
  }
  return pullSecretKeychain(secrets as PullSecret[], options);
}
