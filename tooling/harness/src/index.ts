export {
  type DockerRegistryOptions,
  type RunningDockerRegistry,
  startDockerRegistry,
  useDockerRegistry,
} from "./docker-registry.js";
export { freePort } from "./free-port.js";
export { guardLoopbackOnly, isLoopbackHost, type LoopbackGuard } from "./loopback-guard.js";
export { type FindBinaryOptions, findBinary, MissingBinaryError } from "./system-binary.js";
export { createTestCertificate, type TestCertificate } from "./test-certificate.js";
export { type WaitForHttpOptions, waitForHttp } from "./wait-for-http.js";
