export {
  type AccessTokenSource,
  CLOUD_PLATFORM_SCOPE,
  GOOGLE_TOKEN_USERNAME,
  type GoogleAuthLike,
  type GoogleKeychainOptions,
  googleKeychain,
  isGoogleRegistryHost,
} from "./google-keychain.js";
