export type { ConfigFormat } from "./config-file.js";
export type { LookupResult } from "./config-lookup.js";
export {
  type ConfigLocationOptions,
  type CredentialFile,
  credentialFiles,
  dockerConfigPath,
} from "./config-paths.js";
export {
  type Authenticator,
  type AuthorizationOptions,
  anonymous,
  basic,
  type Credential,
  fromCredential,
  identityToken,
  registryToken,
} from "./credential.js";
export {
  CREDENTIALS_NOT_FOUND_MESSAGE,
  type CredentialHelper,
  type CredentialHelperOptions,
  credentialHelper,
  DEFAULT_HELPER_TIMEOUT_MS,
  type HelperCallOptions,
  type HelperCredentials,
  type HelperKeychainOptions,
  helperKeychain,
  toHelperCredentials,
} from "./credential-helper.js";
export {
  type ConfigFileKeychainOptions,
  configFileKeychain,
  type DefaultKeychainOptions,
  defaultKeychain,
  type FoundCredential,
  findCredential,
} from "./default-keychain.js";
export {
  AuthnError,
  type AuthnErrorCode,
  type AuthnErrorOptions,
  type CredentialHelperAction,
  CredentialHelperError,
  type CredentialHelperErrorOptions,
  type KeychainFailure,
  MultiKeychainError,
} from "./errors.js";
export {
  type GetCredentialsOptions,
  getCredentials,
  registryResource,
} from "./get-credentials.js";
export type { Keychain, ResolveOptions } from "./keychain.js";
export {
  type ConfigWriteOptions,
  type LoginCredential,
  type LoginResult,
  type LogoutResult,
  login,
  logout,
} from "./login.js";
export { type MultiKeychainOptions, multiKeychain } from "./multi-keychain.js";
export {
  isRepositoryResource,
  type RegistryResource,
  type RepositoryResource,
  type Resource,
  resourceKey,
  resourceRegistryHost,
} from "./resource.js";
export { DOCKER_HUB_AUTH_KEY, registryAuthKey } from "./server-address.js";
