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
export type { Keychain, ResolveOptions } from "./keychain.js";
export {
  isRepositoryResource,
  type RegistryResource,
  type RepositoryResource,
  type Resource,
  resourceKey,
  resourceRegistryHost,
} from "./resource.js";
