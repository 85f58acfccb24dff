// @hoist/name: parse and validate OCI / Docker image references with
// go-containerregistry's pkg/name semantics. Zero runtime dependencies.

export type { DigestAlgorithm } from "./check.js";
export { Digest } from "./digest.js";
export {
  isNameError,
  NAME_ERROR_CODES,
  NameError,
  type NameErrorCode,
  type NameErrorOptions,
} from "./errors.js";
export { DEFAULT_REGISTRY, DEFAULT_TAG, type ParseOptions } from "./options.js";
export { parseReference, type Reference } from "./parse.js";
export { Registry } from "./registry.js";
export { Repository } from "./repository.js";
export type { Scheme } from "./scheme.js";
export { Tag } from "./tag.js";
