import { anonymous } from "./credential.js";
import { type HelperCredentials, toHelperCredentials } from "./credential-helper.js";
import { type DefaultKeychainOptions, defaultKeychain } from "./default-keychain.js";
import type { Keychain } from "./keychain.js";
import type { RegistryResource } from "./resource.js";
import { parseServer } from "./server-address.js";

export interface GetCredentialsOptions extends DefaultKeychainOptions {
  /** The keychain to ask. Default {@link defaultKeychain} with these options. */
  keychain?: Keychain;
  signal?: AbortSignal;
}

/**
 * The registry a server address names: a host, or a URL as docker passes it to credential
 * helpers ("https://index.docker.io/v1/"). Docker Hub's names all become "index.docker.io".
 * A `Registry` from @hoist/name.
 */
export function registryResource(server: string): RegistryResource {
  return parseServer(server, "get credentials");
}

/**
 * What `crane auth get` prints for a server: the resolved credential in credential-helper form
 * (an identity token as username "<token>"), or undefined when there is none (crane then prints
 * "credentials not found in native keychain" and exits 1).
 */
export async function getCredentials(
  server: string,
  options: GetCredentialsOptions = {},
): Promise<HelperCredentials | undefined> {
  const resource = registryResource(server);
  const keychain = options.keychain ?? defaultKeychain(options);
  const call = options.signal ? { signal: options.signal } : {};
  const authenticator = await keychain.resolve(resource, call);
  if (authenticator === anonymous) return undefined;
  return toHelperCredentials(server.trim(), await authenticator.authorization(call));
}
