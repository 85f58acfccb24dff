import { AuthnError, type Credential } from "@hoist/authn";

/** The parts of a Kubernetes Secret a pull secret needs (a `V1Secret` from the API fits). */
export interface PullSecret {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly type?: string;
  /** Values are base64, as the API returns them. */
  readonly data?: Readonly<Record<string, string>>;
}

export const DOCKER_CONFIG_JSON_TYPE = "kubernetes.io/dockerconfigjson";
export const DOCKERCFG_TYPE = "kubernetes.io/dockercfg";

/** One credential from a pull secret, keyed the way the kubelet keys it. */
export interface PullSecretEntry {
  /** The key as written in the secret ("https://index.docker.io/v1/", "*.registry.io/team"). */
  readonly key: string;
  readonly credential: Credential;
  /** "namespace/name" of the secret it came from, for messages. */
  readonly secret: string;
}

function secretName(secret: PullSecret, index: number): string {
  const name = secret.metadata?.name ?? `#${index}`;
  return secret.metadata?.namespace ? `${secret.metadata.namespace}/${name}` : name;
}

function invalid(secret: string, detail: string): AuthnError {
  return new AuthnError(
    `pull secret "${secret}" is not valid: ${detail}. Recreate it with kubectl create secret docker-registry.`,
    {
      code: "HOIST_AUTHN_SECRET_INVALID",
      operation: "read pull secret",
    },
  );
}

function decodeBase64(value: string): string | undefined {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, "base64").toString("utf8");
}

function entryCredential(secret: string, key: string, value: unknown): Credential | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(secret, `the entry for ${JSON.stringify(key)} is not an object`);
  }
  const entry = value as Record<string, unknown>;
  const text = (field: string): string => {
    const v = entry[field];
    if (v === undefined || v === null) return "";
    if (typeof v !== "string")
      throw invalid(secret, `"${field}" of ${JSON.stringify(key)} is not a string`);
    return v;
  };
  let username = text("username");
  let password = text("password");
  const auth = text("auth");
  if (auth) {
    // The kubelet decodes `auth` over username/password, and rejects one it cannot split.
    const decoded = decodeBase64(auth);
    const colon = decoded?.indexOf(":") ?? -1;
    if (decoded === undefined || colon < 0) {
      throw invalid(
        secret,
        `the "auth" of ${JSON.stringify(key)} is not base64 of "username:password"`,
      );
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const registryToken = text("registrytoken");
  if (registryToken) return { kind: "registry-token", token: registryToken };
  const identity = text("identitytoken");
  if (identity)
    return username
      ? { kind: "identity-token", token: identity, username }
      : { kind: "identity-token", token: identity };
  if (!username && !password) return undefined;
  return { kind: "basic", username, password };
}

/**
 * Reads pull secrets as the kubelet does: `kubernetes.io/dockerconfigjson` secrets from their
 * `.dockerconfigjson` (`{"auths": {...}}`), `kubernetes.io/dockercfg` secrets from `.dockercfg`
 * (a bare map). Secrets of other types, or without that data, are skipped and reported through
 * `onSkip`. A secret that has the data but cannot be parsed is an error.
 */
export function readPullSecrets(
  secrets: readonly PullSecret[],
  onSkip: (message: string) => void = () => {},
): PullSecretEntry[] {
  const entries: PullSecretEntry[] = [];
  secrets.forEach((secret, index) => {
    const name = secretName(secret, index);
    const dataKey =
      secret.type === DOCKER_CONFIG_JSON_TYPE
        ? ".dockerconfigjson"
        : secret.type === DOCKERCFG_TYPE
          ? ".dockercfg"
          : undefined;
    const raw = dataKey ? secret.data?.[dataKey] : undefined;
    if (!dataKey || !raw) {
      onSkip(
        dataKey
          ? `pull secret "${name}" has no ${dataKey} data; skipped`
          : `secret "${name}" has type ${JSON.stringify(secret.type ?? "")}, not ${DOCKER_CONFIG_JSON_TYPE} or ${DOCKERCFG_TYPE}; skipped`,
      );
      return;
    }
    const text = decodeBase64(raw);
    if (text === undefined) throw invalid(name, `${dataKey} is not base64`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // JSON.parse quotes the text, which holds the credentials: say only that it failed.
      throw invalid(name, `${dataKey} is not JSON`);
    }
    const map =
      dataKey === ".dockerconfigjson" ? (json as { auths?: unknown } | null)?.auths : json;
    if (map === undefined && dataKey === ".dockerconfigjson") return;
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      throw invalid(
        name,
        dataKey === ".dockerconfigjson"
          ? '"auths" is not an object'
          : "it is not a map of registries",
      );
    }
    for (const [key, value] of Object.entries(map)) {
      const credential = entryCredential(name, key, value);
      if (credential) entries.push({ key, credential, secret: name });
    }
  });
  return entries;
}
