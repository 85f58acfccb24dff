// The public surface of @hoist/layout. Everything a user may import is named here.

export type { BlobInput, BlobWriteResult } from "./blob-files.js";
export type { EntryOptions } from "./entry-options.js";
export {
  LAYOUT_ERROR_CODES,
  LayoutError,
  type LayoutErrorCode,
  type LayoutErrorOptions,
} from "./errors.js";
export type { GarbageCollectOptions, GarbageCollectResult } from "./garbage-collect.js";
export type {
  AppendOptions,
  FindOptions,
  Layout,
  LayoutLimits,
  LayoutReadOptions,
  LookupOptions,
  ReplaceResult,
  WriteBlobOptions,
} from "./layout.js";
export { IMAGE_LAYOUT_VERSION, type LayoutFile, parseLayoutFile } from "./layout-file.js";
export {
  type DescriptorMatcher,
  isValidRefName,
  type MatchPlatformsOptions,
  matchAnnotation,
  matchDigests,
  matchMediaTypes,
  matchPlatforms,
  matchRefName,
  REF_NAME_ANNOTATION,
  type Selector,
} from "./matchers.js";
export {
  createLayout,
  imageIndexFromPath,
  type OpenLayoutOptions,
  openLayout,
  writeLayout,
} from "./open-layout.js";
export type { LayoutProgress } from "./progress.js";
export type { WriteOptions } from "./write-tree.js";
