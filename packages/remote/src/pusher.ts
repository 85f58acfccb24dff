import type { Descriptor, Image, ImageIndex, Layer } from "@hoist/oci";
import { BlobKnowledge } from "./blob-knowledge.js";
import { checkPushPermission } from "./check.js";
import { RemoteClient } from "./client.js";
import { copyEntry } from "./copy.js";
import { deleteReference } from "./delete.js";
import type { Taggable } from "./descriptor.js";
import { RemoteError } from "./errors.js";
import { multiWriteEntries } from "./multi-write.js";
import {
  mergeOptions,
  type RemoteOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.js";
import { RemotePuller } from "./puller.js";
import {
  type ReferenceInput,
  type RepositoryInput,
  tagIn,
  toReference,
  toRepository,
} from "./references.js";
import {
  isImageLike,
  isIndexLike,
  type Pushable,
  type PushEntry,
  type PusherState,
  PushOperation,
} from "./write.js";

export type { Pushable } from "./write.js";

/**
 * Writes to registries, reusing connections, tokens and what it learned about where blobs
 * live across calls (go-containerregistry's Pusher). Every method takes per-call options
 * (`jobs`, `onProgress`, `signal`, `chunkSize`, ...).
 */
export interface Pusher {
  /** Pushes an image and everything it needs; returns the pushed manifest's descriptor. */
  write(reference: ReferenceInput, image: Image, options?: RemoteOptions): Promise<Descriptor>;
  /** Pushes an index, its children first (recursively, by digest), then the index. */
  writeIndex(
    reference: ReferenceInput,
    index: ImageIndex,
    options?: RemoteOptions,
  ): Promise<Descriptor>;
  /** Puts one blob into a repository (skipped if present, mounted if known elsewhere). */
  writeLayer(
    repository: RepositoryInput,
    layer: Layer,
    options?: RemoteOptions,
  ): Promise<Descriptor>;
  /** PUTs a manifest as it is, nothing else (its blobs must be there). */
  put(reference: ReferenceInput, manifest: Taggable, options?: RemoteOptions): Promise<Descriptor>;
  /** Gives the manifest `reference` names another tag in the same repository. */
  tag(reference: ReferenceInput, tag: string, options?: RemoteOptions): Promise<Descriptor>;
  /** Deletes a manifest (by digest, or a tag where the registry allows it). */
  delete(reference: ReferenceInput, options?: RemoteOptions): Promise<void>;
  /**
   * Pushes many images and indexes as one operation: each distinct blob is uploaded once,
   * `jobs` bounds the whole, and progress covers everything. Results follow the input order.
   */
  multiWrite(
    entries: Iterable<readonly [ReferenceInput, Pushable]>,
    options?: RemoteOptions,
  ): Promise<Descriptor[]>;
  /** Resolves when the credentials may push to the repository; throws RemoteError otherwise. */
  checkPushPermission(reference: ReferenceInput, options?: RemoteOptions): Promise<void>;
  /**
   * Does now what a push to the repository would wait for before its first request: the
   * registry's ping, the credentials and, where the registry uses tokens, a push token. Pushes
   * to that repository reuse them, so a program can overlap this with reading what it will push.
   * Sends nothing else; throws the RemoteError the push would meet. A failure is not kept: the
   * next push or prepare tries again.
   */
  prepare(target: ReferenceInput | RepositoryInput, options?: RemoteOptions): Promise<void>;
  /**
   * Copies whatever `source` names (image, index, schema 1, any other manifest) to
   * `destination`: blobs stream between registries and are mounted within one. With a
   * `platform`, an index is copied as its one image for that platform.
   */
  copy(
    source: ReferenceInput,
    destination: ReferenceInput,
    options?: RemoteOptions,
  ): Promise<Descriptor>;
  /** Closes connections (unless the transport was given). */
  close(): Promise<void>;
}

class RemotePusher implements Pusher {
  readonly #client: RemoteClient;
  readonly #defaults: ResolvedOptions;
  readonly #state: PusherState;
  readonly #puller: RemotePuller;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(client: RemoteClient, defaults: ResolvedOptions) {
    this.#client = client;
    this.#defaults = defaults;
    this.#puller = new RemotePuller(client, defaults, false);
    this.#state = {
      client,
      knowledge: new BlobKnowledge(),
      referrersApi: new Map(),
      lock: (key, task) => this.#lock(key, task),
    };
  }

  #lock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(key) ?? Promise.resolve();
    const run = before.then(task, task);
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#locks.set(key, settled);
    settled.then(() => {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    });
    return run;
  }

  #options(call: RemoteOptions | undefined): ResolvedOptions {
    return mergeOptions(this.#defaults, call);
  }

  #run(entries: PushEntry[], options: ResolvedOptions): Promise<Descriptor[]> {
    return new PushOperation(this.#state, options).run(entries);
  }

  async write(reference: ReferenceInput, image: Image, call?: RemoteOptions): Promise<Descriptor> {
    const options = this.#options(call);
    const ref = toReference(reference, "write image");
    if (!isImageLike(image)) throw notA("write image", "an image (see @hoist/oci's Image)", image);
    const [descriptor] = await this.#run([{ reference: ref, item: image }], options);
    return descriptor as Descriptor;
  }

  async writeIndex(
    reference: ReferenceInput,
    index: ImageIndex,
    call?: RemoteOptions,
  ): Promise<Descriptor> {
    const options = this.#options(call);
    const ref = toReference(reference, "write index");
    if (!isIndexLike(index))
      throw notA("write index", "an index (see @hoist/oci's ImageIndex)", index);
    const [descriptor] = await this.#run([{ reference: ref, item: index }], options);
    return descriptor as Descriptor;
  }

  async writeLayer(
    repository: RepositoryInput,
    layer: Layer,
    call?: RemoteOptions,
  ): Promise<Descriptor> {
    const options = this.#options(call);
    const repo = toRepository(repository, "write layer");
    if (typeof (layer as Layer | null)?.compressed !== "function") {
      throw notA("write layer", "a layer (see @hoist/oci's Layer)", layer);
    }
    return new PushOperation(this.#state, options).runBlob(repo, layer);
  }

  async put(
    reference: ReferenceInput,
    manifest: Taggable,
    call?: RemoteOptions,
  ): Promise<Descriptor> {
    const options = this.#options(call);
    const ref = toReference(reference, "put manifest");
    if (typeof (manifest as Taggable | null)?.rawManifest !== "function") {
      throw notA("put manifest", "something with rawManifest() and mediaType()", manifest);
    }
    const taggable: Taggable = {
      rawManifest: (o) => manifest.rawManifest(o),
      mediaType: (o) => manifest.mediaType(o),
    };
    const [descriptor] = await this.#run(
      [{ reference: ref, item: taggable, unchecked: true }],
      options,
    );
    return descriptor as Descriptor;
  }

  async tag(reference: ReferenceInput, tag: string, call?: RemoteOptions): Promise<Descriptor> {
    const options = this.#options(call);
    const ref = toReference(reference, "tag");
    const target = tagIn(ref.repository, tag, "tag");
    const source = await this.#puller.get(ref, call);
    // Only the manifest is PUT again: re-tagging a referrer must not touch the fallback tag.
    const [descriptor] = await this.#run(
      [
        {
          reference: target,
          item: { rawManifest: source.rawManifest, mediaType: source.mediaType },
          unchecked: true,
        },
      ],
      { ...options, referrersTagFallback: false },
    );
    return descriptor as Descriptor;
  }

  async delete(reference: ReferenceInput, call?: RemoteOptions): Promise<void> {
    const options = this.#options(call);
    await deleteReference(this.#client, toReference(reference, "delete"), options.signal);
  }

  async multiWrite(
    entries: Iterable<readonly [ReferenceInput, Pushable]>,
    call?: RemoteOptions,
  ): Promise<Descriptor[]> {
    const options = this.#options(call);
    return this.#run(multiWriteEntries(entries), options);
  }

  async checkPushPermission(reference: ReferenceInput, call?: RemoteOptions): Promise<void> {
    const options = this.#options(call);
    const repository = toReference(reference, "check push permission").repository;
    await checkPushPermission(this.#client, repository, options.signal);
  }

  async prepare(target: ReferenceInput | RepositoryInput, call?: RemoteOptions): Promise<void> {
    const options = this.#options(call);
    // A string is read as an image reference: a bare repository is one too (tag latest).
    const repository =
      typeof target === "string"
        ? toReference(target, "prepare push").repository
        : toRepository(target, "prepare push");
    await this.#client.session(repository, "push", options.signal);
  }

  async copy(
    source: ReferenceInput,
    destination: ReferenceInput,
    call?: RemoteOptions,
  ): Promise<Descriptor> {
    const options = this.#options(call);
    const target = toReference(destination, "copy");
    // The destination's ping and credentials are looked up while the source's manifest is
    // fetched, instead of after it (10-20 ms of every copy between two registries). A failure
    // here is forgotten by the client and met again, and reported, by the write itself.
    this.#client.session(target.repository, "push", options.signal).catch(() => {});
    const entry = await copyEntry(this.#puller, toReference(source, "copy"), target, options, call);
    const [result] = await this.#run([entry], options);
    return result as Descriptor;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

function notA(operation: string, what: string, value: unknown): RemoteError {
  return new RemoteError(
    `${operation}: expected ${what}, got ${value === null ? "null" : typeof value}`,
    { code: "HOIST_REMOTE_INVALID_ARGUMENT", operation },
  );
}

/** A Pusher with its own transport (or the one in `options.transport`). */
export function createPusher(options?: RemoteOptions): Pusher {
  const resolved = resolveOptions(options);
  return new RemotePusher(new RemoteClient(resolved), resolved);
}
