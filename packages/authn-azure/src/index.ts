export { type AcrRegistry, parseAcrHost } from "./acr-host.js";
export {
  ACR_REFRESH_TOKEN_USERNAME,
  type AcrKeychainOptions,
  acrKeychain,
} from "./acr-keychain.js";
