export type {
  AccessAction,
  AccessPolicy,
  AccessQuery,
  AuthOptions,
  BasicAuthOptions,
  BearerAuthOptions,
} from "./auth.js";
export {
  DISTRIBUTION_ERROR_MESSAGES,
  type DistributionErrorCode,
  type DistributionErrorEntry,
  errorBody,
} from "./distribution-error.js";
export {
  REGISTRY_ERROR_CODES,
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorOptions,
} from "./errors.js";
export type {
  FaultContext,
  FaultOptions,
  FaultRule,
  ForwardedResponse,
} from "./faults.js";
export {
  createRegistry,
  type Registry,
  type RegistryLimits,
  type RegistryLogEntry,
  type RegistryOptions,
  type ValidationOptions,
} from "./registry.js";
export type { RequestRecord } from "./request-log.js";
export type { RegistryResponse, ResponseHeaders } from "./response.js";
export type { RouteKind } from "./routes.js";
export { type RunningRegistry, type StartRegistryOptions, startRegistry } from "./server.js";
export { type FileStorageOptions, fileStorage } from "./storage/file-storage.js";
export { memoryStorage } from "./storage/memory-storage.js";
export type {
  BlobStat,
  ManifestToStore,
  ReferrerDescriptor,
  RegistryStorage,
  StorageCallOptions,
  StoredManifest,
  UploadState,
} from "./storage/types.js";
