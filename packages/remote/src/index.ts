// The public surface of @hoist/remote. Everything a user may import is named here.

export type { RemoteDescriptor, Taggable } from "./descriptor.js";
export {
  REMOTE_ERROR_CODES,
  RemoteError,
  type RemoteErrorCode,
  type RemoteErrorOptions,
} from "./errors.js";
export {
  catalog,
  catalogPage,
  checkPushPermission,
  copy,
  deleteManifest as delete,
  deleteManifest,
  get,
  head,
  image,
  index,
  layer,
  list,
  multiWrite,
  put,
  referrers,
  tag,
  write,
  writeIndex,
  writeLayer,
} from "./functions.js";
export {
  DEFAULT_JOBS,
  DEFAULT_PAGE_SIZE,
  type Dispatcher,
  type Progress,
  type RemoteOptions,
} from "./options.js";
export {
  type CatalogPage,
  type CatalogPageOptions,
  createPuller,
  type Puller,
  type ReferrersOptions,
} from "./puller.js";
export { createPusher, type Pushable, type Pusher } from "./pusher.js";
export type { ReferenceInput, RegistryInput, RepositoryInput } from "./references.js";
export type { Schema1Manifest } from "./schema1.js";
