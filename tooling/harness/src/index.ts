export {
  type DockerRegistryOptions,
  type RunningDockerRegistry,
  startDockerRegistry,
  useDockerRegistry,
} from "./docker-registry.js";
export { freePort } from "./free-port.js";
export { type FindBinaryOptions, findBinary, MissingBinaryError } from "./system-binary.js";
export { type WaitForHttpOptions, waitForHttp } from "./wait-for-http.js";
