// The public surface of @hoist/oci. Everything a user may import is named here.

export { type CreateImageOptions, createImage } from "./create-image.js";
export { type CreateImageIndexOptions, createImageIndex } from "./create-image-index.js";
export { configLayer, descriptorOf } from "./descriptor-of.js";
export { type EmptyImageOptions, type EmptyIndexOptions, emptyImage, emptyIndex } from "./empty.js";
export {
  DigestMismatchError,
  type DocumentKind,
  type DocumentProblem,
  InvalidDocumentError,
  OCI_ERROR_CODES,
  OciError,
  type OciErrorCode,
  type OciErrorOptions,
  SizeMismatchError,
} from "./errors.js";
export {
  type Compression,
  createGunzipStream,
  createGzipStream,
  DEFAULT_GZIP_LEVEL,
  detectCompression,
  type GunzipStreamOptions,
  type GzipStreamOptions,
} from "./gzip.js";
export { Hash, type HashAlgorithm } from "./hash.js";
export {
  DRAIN,
  type Drainable,
  type DrainSink,
  FILL,
  type Fillable,
  HashingStream,
  type HashStreamOptions,
  hashStream,
  isDrainable,
  isFillable,
  VerifyingStream,
  type VerifyingStreamOptions,
} from "./hashing-stream.js";
export type { Image, ImageIndex, Layer, LayerDigests, ReadOptions } from "./interfaces.js";
export { layerFromBytes } from "./layer-from-bytes.js";
export { layerFromFile } from "./layer-from-file.js";
export { layerFromStream, type StreamLayer } from "./layer-from-stream.js";
export type { LayerOptions } from "./layer-options.js";
export type { BlobSource } from "./manifest-layer.js";
export {
  baseMediaType,
  isConfig,
  isDistributable,
  isImage,
  isIndex,
  isLayer,
  isManifest,
  isSchema1,
  isValidMediaType,
  layerCompression,
  MediaType,
  sniffManifestMediaType,
} from "./media-type.js";
export { setAnnotations, setMediaType } from "./mutate.js";
export {
  appendLayers,
  type LayerAddendum,
  setConfig,
  setConfigFile,
  setConfigMediaType,
} from "./mutate-image.js";
export {
  appendManifests,
  type IndexAddendum,
  type IndexEntryFields,
  platformFromConfig,
  removeManifests,
} from "./mutate-index.js";
export {
  DEFAULT_MAX_CONFIG_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  type ParseDocumentOptions,
  parseConfigFile,
  parseDescriptor,
  parseIndexManifest,
  parseManifest,
} from "./parse-document.js";
export {
  DEFAULT_PLATFORM,
  formatPlatform,
  indexChildMatches,
  parsePlatform,
  platformEquals,
  platformSatisfies,
  selectIndexChild,
} from "./platform.js";
export {
  createPlatformMatcher,
  normalizePlatform,
  type PlatformMatcher,
} from "./platform-matcher.js";
export {
  type RandomImageOptions,
  type RandomIndexOptions,
  randomImage,
  randomIndex,
} from "./random.js";
export { rebase } from "./rebase.js";
export {
  ConfigFileSchema,
  ContainerConfigSchema,
  DescriptorSchema,
  DigestSchema,
  IndexManifestSchema,
  ManifestSchema,
  MediaTypeSchema,
  PlatformSchema,
} from "./schemas.js";
export { raceAbort, SharedComputation } from "./shared-computation.js";
export type {
  ConfigFile,
  ContainerConfig,
  Descriptor,
  HealthConfig,
  History,
  IndexManifest,
  Manifest,
  Platform,
  RootFS,
} from "./types.js";
export { type ValidateOptions, validateImage, validateIndex } from "./validate.js";
export { readDescriptorData, verifyBytes } from "./verified-read.js";
