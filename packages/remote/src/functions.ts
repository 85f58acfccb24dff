import type { Descriptor, Image, ImageIndex, IndexManifest, Layer } from "@hoist/oci";
import type { RemoteDescriptor, Taggable } from "./descriptor.js";
import type { RemoteOptions } from "./options.js";
import {
  type CatalogPage,
  type CatalogPageOptions,
  createPuller,
  type Puller,
  type ReferrersOptions,
} from "./puller.js";
import { createPusher, type Pushable, type Pusher } from "./pusher.js";
import type { ReferenceInput, RegistryInput, RepositoryInput } from "./references.js";

// One-call forms of the Puller and Pusher methods. Each call makes its own Puller or Pusher.
// Calls that return something lazy (an image whose layers are read later) keep its transport
// open; idle connections do not keep a process alive and close after the keep-alive timeout.
// The others close it when they finish. For many calls, create a Puller or Pusher instead:
// connections, tokens and what was learned are then shared.

async function pulling<T>(
  options: RemoteOptions | undefined,
  run: (puller: Puller) => Promise<T>,
): Promise<T> {
  const puller = createPuller(options);
  try {
    return await run(puller);
  } finally {
    await puller.close();
  }
}

async function pushing<T>(
  options: RemoteOptions | undefined,
  run: (pusher: Pusher) => Promise<T>,
): Promise<T> {
  const pusher = createPusher(options);
  try {
    return await run(pusher);
  } finally {
    await pusher.close();
  }
}

/** See {@link Puller.get}. */
export function get(reference: ReferenceInput, options?: RemoteOptions): Promise<RemoteDescriptor> {
  return createPuller(options).get(reference);
}

/** See {@link Puller.head}. */
export function head(reference: ReferenceInput, options?: RemoteOptions): Promise<Descriptor> {
  return pulling(options, (puller) => puller.head(reference));
}

/** See {@link Puller.image}. */
export function image(reference: ReferenceInput, options?: RemoteOptions): Promise<Image> {
  return createPuller(options).image(reference);
}

/** See {@link Puller.index}. */
export function index(reference: ReferenceInput, options?: RemoteOptions): Promise<ImageIndex> {
  return createPuller(options).index(reference);
}

/** See {@link Puller.layer}. */
export function layer(reference: ReferenceInput, options?: RemoteOptions): Promise<Layer> {
  return createPuller(options).layer(reference);
}

/** See {@link Puller.list}. */
export function list(repository: RepositoryInput, options?: RemoteOptions): Promise<string[]> {
  return pulling(options, (puller) => puller.list(repository));
}

/** See {@link Puller.catalog}. */
export function catalog(registry: RegistryInput, options?: RemoteOptions): Promise<string[]> {
  return pulling(options, (puller) => puller.catalog(registry));
}

/** See {@link Puller.catalogPage}. */
export function catalogPage(
  registry: RegistryInput,
  options?: CatalogPageOptions,
): Promise<CatalogPage> {
  const { last, ...rest } = options ?? {};
  return pulling(rest, (puller) =>
    puller.catalogPage(registry, last === undefined ? {} : { last }),
  );
}

/** See {@link Puller.referrers}. */
export function referrers(
  reference: ReferenceInput,
  options?: ReferrersOptions,
): Promise<IndexManifest> {
  const { artifactType, ...rest } = options ?? {};
  return pulling(rest, (puller) =>
    puller.referrers(reference, artifactType === undefined ? {} : { artifactType }),
  );
}

/** See {@link Pusher.write}. */
export function write(
  reference: ReferenceInput,
  image: Image,
  options?: RemoteOptions,
): Promise<Descriptor> {
  return pushing(options, (pusher) => pusher.write(reference, image));
}

/** See {@link Pusher.writeIndex}. */
export function writeIndex(
  reference: ReferenceInput,
  index: ImageIndex,
  options?: RemoteOptions,
): Promise<Descriptor> {
  return pushing(options, (pusher) => pusher.writeIndex(reference, index));
}

/** See {@link Pusher.writeLayer}. */
export function writeLayer(
  repository: RepositoryInput,
  layer: Layer,
  options?: RemoteOptions,
): Promise<Descriptor> {
  return pushing(options, (pusher) => pusher.writeLayer(repository, layer));
}

/** See {@link Pusher.put}. */
export function put(
  reference: ReferenceInput,
  manifest: Taggable,
  options?: RemoteOptions,
): Promise<Descriptor> {
  return pushing(options, (pusher) => pusher.put(reference, manifest));
}

/** See {@link Pusher.tag}. */
export function tag(
  reference: ReferenceInput,
  tag: string,
  options?: RemoteOptions,
): Promise<Descriptor> {
  return pushing(options, (pusher) => pusher.tag(reference, tag));
}

/** See {@link Pusher.delete}. Exported as `delete`; `deleteManifest` is the same function. */
export function deleteManifest(reference: ReferenceInput, options?: RemoteOptions): Promise<void> {
  return pushing(options, (pusher) => pusher.delete(reference));
}

/** See {@link Pusher.multiWrite}. */
export function multiWrite(
  entries: Iterable<readonly [ReferenceInput, Pushable]>,
  options?: RemoteOptions,
): Promise<Descriptor[]> {
  return pushing(options, (pusher) => pusher.multiWrite(entries));
}

/** See {@link Pusher.checkPushPermission}. */
export function checkPushPermission(
  reference: ReferenceInput,
  options?: RemoteOptions,
): Promise<void> {
  return pushing(options, (pusher) => pusher.checkPushPermission(reference));
}

/** See {@link Pusher.copy}. */
export function copy(
  source: ReferenceInput,
  destination: ReferenceInput,
  options?: RemoteOptions,
): Promise<Descriptor> {
  return pushing(options, (pusher) => pusher.copy(source, destination));
}
