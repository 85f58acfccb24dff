import type { Authenticator } from "./credential.js";
import type { Resource } from "./resource.js";

export interface ResolveOptions {
  signal?: AbortSignal;
}

/**
 * Finds credentials for a resource. Returns `anonymous` when it has none for it; throws an
 * `AuthnError` when it has an answer but could not produce it (a broken helper, a corrupt file).
 */
export interface Keychain {
  /** Shown in error reports and debug logs. */
  readonly name: string;
  resolve(resource: Resource, options?: ResolveOptions): Promise<Authenticator>;
}
