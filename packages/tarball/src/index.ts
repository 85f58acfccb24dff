// The public surface of @hoist/tarball. Everything a user may import is named here.

export type { TarballDescriptor } from "./docker-manifest.js";
export { cleanPath, isSafeEntryName } from "./entry-path.js";
export {
  TARBALL_ERROR_CODES,
  TarballError,
  type TarballErrorCode,
  type TarballErrorOptions,
} from "./errors.js";
export {
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_UNCOMPRESSED_BYTES,
  type ExportOptions,
  type ExportResult,
  exportImage,
} from "./export-image.js";
export { type FlattenOptions, flatten } from "./flatten.js";
export {
  createLayerTar,
  type FileMap,
  type FileSpec,
  type FilesLayerOptions,
  imageFromFiles,
  layerFromFiles,
  layerFromTar,
} from "./layer-tar.js";
export type { OutputTarget } from "./output.js";
export type { Progress } from "./progress.js";
export {
  type LayerEntryType,
  type LayerTarEntry,
  type ReadLayerTarOptions,
  readLayerTar,
} from "./read-layer-tar.js";
export {
  imageFromTarball,
  type OpenTarballOptions,
  openTarball,
  type Tarball,
  type TarballImageEntry,
} from "./read-tarball.js";
export type { ReferenceInput } from "./repo-tags.js";
export type { UncompressedLayers } from "./tarball-image.js";
export { type TarballWriteEntry, type WriteTarballOptions, writeTarball } from "./write-tarball.js";
