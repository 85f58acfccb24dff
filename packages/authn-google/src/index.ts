export {
  CLOUD_PLATFORM_SCOPE,
  GOOGLE_TOKEN_USERNAME,
  type GoogleKeychainOptions,
  googleKeychain,
  isGoogleRegistryHost,
} from "./google-keychain.js";
