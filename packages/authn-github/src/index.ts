export {
  GITHUB_REGISTRY_HOSTS,
  GITHUB_TOKEN_USERNAME,
  type GithubKeychainOptions,
  githubKeychain,
} from "./github-keychain.js";
