/**
 * What a keychain hands to a registry client. The transport decides how to use it:
 * Basic on the registry or the token realm, a refresh-token POST for identity tokens,
 * or a bearer token sent as it is.
 */
export type Credential =
  | { readonly kind: "anonymous" }
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  /** An OAuth2 refresh token (docker config `identitytoken`, or a helper answering user `<token>`). */
  | { readonly kind: "identity-token"; readonly token: string; readonly username?: string }
  /** A ready bearer token for the registry (docker config `registrytoken`); no exchange is made. */
  | { readonly kind: "registry-token"; readonly token: string };

export interface AuthorizationOptions {
  signal?: AbortSignal;
}

/**
 * Produces the credential for one registry. Asked again before each token exchange, so an
 * implementation may refresh short-lived credentials.
 */
export interface Authenticator {
  authorization(options?: AuthorizationOptions): Promise<Credential>;
}

const ANONYMOUS_CREDENTIAL: Credential = Object.freeze({ kind: "anonymous" });

/** The authenticator that sends nothing. Keychains return this exact object for "no credentials". */
export const anonymous: Authenticator = Object.freeze({
  authorization: async () => ANONYMOUS_CREDENTIAL,
});

/** An authenticator that always yields the same credential. */
export function fromCredential(credential: Credential): Authenticator {
  if (credential.kind === "anonymous") return anonymous;
  const frozen = Object.freeze({ ...credential });
  return Object.freeze({ authorization: async () => frozen });
}

export function basic(username: string, password: string): Authenticator {
  return fromCredential({ kind: "basic", username, password });
}

export function registryToken(token: string): Authenticator {
  return fromCredential({ kind: "registry-token", token });
}

export function identityToken(token: string, options: { username?: string } = {}): Authenticator {
  return fromCredential(
    options.username === undefined
      ? { kind: "identity-token", token }
      : { kind: "identity-token", token, username: options.username },
  );
}
