export { keyMatches } from "./kubelet-match.js";
export {
  type KubeConfigLike,
  type KubernetesKeychainOptions,
  kubernetesKeychain,
  type PullSecretKeychainOptions,
  pullSecretKeychain,
} from "./kubernetes-keychain.js";
export { DOCKER_CONFIG_JSON_TYPE, DOCKERCFG_TYPE, type PullSecret } from "./pull-secrets.js";
