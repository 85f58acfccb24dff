export {
  type HtpasswdRegistryOptions,
  startHtpasswdRegistry,
  startTokenAuthRegistry,
  type TokenAuthRegistry,
  type TokenAuthRegistryOptions,
  useHtpasswdRegistry,
  useStarted,
  useTokenAuthRegistry,
} from "./auth-registries.js";
export {
  type CertificateOptions,
  createCertificate,
  type TestCertificate,
} from "./certificates.js";
export {
  type DockerRegistryOptions,
  type RunningDockerRegistry,
  startDockerRegistry,
} from "./docker-registry.js";
export {
  type Fault,
  type FaultProxyOptions,
  type FaultRequest,
  type FaultRule,
  type ProxyRecord,
  type RewrittenAnswer,
  type RunningFaultProxy,
  startFaultProxy,
} from "./fault-proxy.js";
export {
  type ForwardProxyRecord,
  type RunningForwardProxy,
  startForwardProxy,
} from "./forward-proxy.js";
export { freePort } from "./free-port.js";
export { type GeneratedTarOptions, generatedTar } from "./generated-tar.js";
export {
  type OriginHandler,
  type RecordedRequest,
  type RunningHttpOrigin,
  startHttpOrigin,
} from "./http-origin.js";
export { guardLoopbackOnly, isLoopbackHost, type LoopbackGuard } from "./loopback-guard.js";
export { type ManualClock, manualClock } from "./manual-clock.js";
export {
  type ReadmeExampleOptions,
  type ReadmeExampleRun,
  runReadmeExample,
} from "./readme-example.js";
export { seededRandom } from "./seeded-random.js";
export { skopeoRun } from "./skopeo.js";
export { type FindBinaryOptions, findBinary, MissingBinaryError } from "./system-binary.js";
export { createServerCertificate, type ServerCertificate } from "./test-certificate.js";
export {
  type AccessRule,
  type GrantedAccess,
  type RunningTokenServer,
  startTokenServer,
  type TokenRequestRecord,
  type TokenServerOptions,
  type TokenServerUser,
} from "./token-server.js";
export { useDockerRegistry } from "./use-docker-registry.js";
export { type WaitForHttpOptions, waitForHttp } from "./wait-for-http.js";
