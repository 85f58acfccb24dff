export { ECR_PUBLIC_HOST, type EcrRegistry, parseEcrHost } from "./ecr-host.js";
export {
  createEcrClient,
  createEcrPublicClient,
  type EcrKeychainOptions,
  ecrKeychain,
} from "./ecr-keychain.js";
