import type { Reference, Repository } from "@hoist/name";
import {
  configLayer,
  type Descriptor,
  Hash,
  type Image,
  type ImageIndex,
  type IndexManifest,
  isDistributable,
  isImage,
  isIndex,
  isSchema1,
  type Layer,
  MediaType,
  OciError,
} from "@hoist/oci";
import type { BlobKnowledge } from "./blob-knowledge.js";
import type { RemoteClient } from "./client.js";
import type { Taggable } from "./descriptor.js";
import { Fetcher, MANIFEST_ACCEPT } from "./fetcher.js";
import { Limiter } from "./limiter.js";
import { originOf } from "./mount.js";
import type { ResolvedOptions } from "./options.js";
import { ProgressTracker } from "./progress.js";
import {
  addToFallbackIndex,
  fallbackTag,
  hasReferrersApi,
  readFallbackIndex,
} from "./referrers.js";
import { schema1PayloadDigest } from "./schema1.js";
import { translating } from "./translate-error.js";
import { type BlobJob, BlobUploader, type UploadTurns } from "./upload.js";

/** Blob existence checks (HEAD) in flight at once, at least; `jobs` raises it. */
const EXISTENCE_CHECKS = 16;

/** What can be pushed: an image, an index, or any manifest as bytes. */
export type Pushable = Image | ImageIndex | Taggable;

export function isIndexLike(value: unknown): value is ImageIndex {
  return typeof (value as ImageIndex | null)?.indexManifest === "function";
}

export function isImageLike(value: unknown): value is Image {
  return (
    typeof (value as Image | null)?.layers === "function" &&
    typeof (value as Image | null)?.configFile === "function"
  );
}

/** What a Pusher keeps across operations. */
export interface PusherState {
  client: RemoteClient;
  knowledge: BlobKnowledge;
  /** Registry host → whether it serves the referrers API. */
  referrersApi: Map<string, boolean>;
  /** Serialises read-modify-write of one referrers fallback tag. */
  lock<T>(key: string, task: () => Promise<T>): Promise<T>;
}

/**
 * `present`: the manifest is in the repository already (by digest), so nothing below it needs
 * pushing; `upToDate`: the reference already names it, so not even the manifest does.
 */
interface NodeState {
  present: boolean;
  upToDate: boolean;
}

interface ImageNode extends NodeState {
  kind: "image";
  image: Image;
  digest: Hash | undefined;
  size: number | undefined;
  layers: BlobJob[];
  config: BlobJob | undefined;
  subject: Hash | undefined;
}

interface IndexNode extends NodeState {
  kind: "index";
  digest: Hash;
  size: number;
  raw: Uint8Array;
  mediaType: string;
  children: Array<{ node: Node } | { blob: BlobJob }>;
  subject: Hash | undefined;
}

interface RawNode extends NodeState {
  kind: "raw";
  digest: Hash;
  size: number;
  raw: Uint8Array;
  mediaType: string;
  blobs: BlobJob[];
  subject: Hash | undefined;
}

type Node = ImageNode | IndexNode | RawNode;

interface Root {
  reference: Reference;
  node: Node;
}

/** An item to push, with the blobs a raw manifest needs first (schema 1 copies). */
export interface PushEntry {
  reference: Reference;
  item: Pushable;
  /** For a Taggable: blobs to put in place before the manifest. */
  blobs?: BlobJob[];
  /** Skip the existence checks (plain `put`). */
  unchecked?: boolean;
}

class Deferred {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.promise.catch(() => {});
  }
}

/** The value of `get()` unless it throws "not computed" (a streamed layer not yet read). */
async function ifComputed<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (error) {
    if (OciError.is(error) && error.code === "HOIST_OCI_NOT_COMPUTED") return undefined;
    throw error;
  }
}

/** The subject a manifest names, if any. */
function subjectOf(raw: Uint8Array): Hash | undefined {
  try {
    const digest = (
      JSON.parse(Buffer.from(raw).toString("utf8")) as { subject?: { digest?: unknown } }
    ).subject?.digest;
    return typeof digest === "string" && Hash.isValid(digest) ? Hash.parse(digest) : undefined;
  } catch {
    return undefined;
  }
}

/** The descriptor a referrers index lists for a manifest (distribution spec rules). */
function referrerDescriptor(raw: Uint8Array, mediaType: string, digest: Hash): Descriptor {
  const descriptor: Descriptor = { mediaType, size: raw.byteLength, digest };
  try {
    const document = JSON.parse(Buffer.from(raw).toString("utf8")) as {
      artifactType?: unknown;
      config?: { mediaType?: unknown };
      annotations?: unknown;
    };
    const artifactType =
      typeof document.artifactType === "string"
        ? document.artifactType
        : document.config?.mediaType;
    if (typeof artifactType === "string") descriptor.artifactType = artifactType;
    if (document.annotations && typeof document.annotations === "object") {
      descriptor.annotations = document.annotations as Record<string, string>;
    }
  } catch {
    // A manifest we could PUT is JSON; nothing to add otherwise.
  }
  return descriptor;
}

/**
 * One push (write, writeIndex, multiWrite, put, copy): plans everything first (what
 * exists, what to upload, the byte total), then uploads with one job limit for the whole
 * operation, in dependency order: layers, then config, then manifest; children before their
 * index; a subject before the manifests that refer to it.
 */
export class PushOperation {
  readonly #state: PusherState;
  readonly #options: ResolvedOptions;
  readonly #limiter: Limiter;
  /** For existence checks (HEAD), which are cheap enough to send many at once. */
  readonly #checks: Limiter;
  /** The job slots, and the missing blobs that open their session while they wait for one. */
  readonly #turns: UploadTurns;
  readonly #progress: ProgressTracker;
  readonly #uploaders = new Map<string, BlobUploader>();
  readonly #blobs = new Map<string, Promise<Hash>>();
  readonly #streams = new Map<Layer, { repository: Repository; digest: Promise<Hash> }>();
  readonly #plannedBlobs = new Set<string>();
  readonly #plannedManifests = new Set<string>();
  readonly #manifests = new Map<string, Promise<void>>();
  readonly #done = new Map<string, Deferred>();
  /** Manifest HEADs of this operation (repository|identifier), each sent once. */
  readonly #heads = new Map<string, Promise<Hash | undefined>>();
  /** Blob existence checks of this operation (repository|digest), each sent once. */
  readonly #existence = new Map<string, Promise<boolean>>();

  constructor(state: PusherState, options: ResolvedOptions) {
    this.#state = state;
    this.#options = options;
    this.#limiter = new Limiter(options.jobs);
    this.#checks = new Limiter(Math.max(options.jobs, EXISTENCE_CHECKS));
    this.#turns = {
      slots: this.#limiter,
      ahead: new Limiter(options.jobs),
      answering: new Limiter(options.jobs),
    };
    this.#progress = new ProgressTracker(options.onProgress);
  }

  get #signal(): AbortSignal | undefined {
    return this.#options.signal;
  }

  #uploader(repository: Repository): BlobUploader {
    let uploader = this.#uploaders.get(repository.name);
    if (!uploader) {
      uploader = new BlobUploader(repository, {
        client: this.#state.client,
        knowledge: this.#state.knowledge,
        progress: this.#progress,
        chunkSize: this.#options.chunkSize,
        signal: this.#signal,
      });
      this.#uploaders.set(repository.name, uploader);
    }
    return uploader;
  }

  #limited<T>(task: () => Promise<T>): Promise<T> {
    return this.#limiter.run(task, this.#signal);
  }

  /** Pushes every entry; resolves with each one's descriptor, in order. */
  async run(entries: readonly PushEntry[]): Promise<Descriptor[]> {
    for (const entry of entries) {
      // The ping and the credentials are looked up while the first manifest is read. A failure
      // is forgotten by the client and met again, and reported, by the first request.
      this.#state.client.session(entry.reference.repository, "push", this.#signal).catch(() => {});
    }
    const roots = await Promise.all(entries.map((entry) => this.#planRoot(entry)));
    this.#progress.start();
    const descriptors = await Promise.all(roots.map((root) => this.#executeRoot(root)));
    // Checks sent ahead that turned out not to be needed end with the operation, not after it.
    // (A failure is reported at once: it does not wait for a check the registry is slow on.)
    await Promise.allSettled([...this.#heads.values(), ...this.#existence.values()]);
    return descriptors;
  }

  /** Puts one blob in place (writeLayer). */
  async runBlob(repository: Repository, layer: Layer): Promise<Descriptor> {
    const job = await this.#blobJob(layer);
    if (job.digest && job.size !== undefined) this.#planBlob(repository, job.digest, job.size);
    this.#progress.start();
    const digest = await this.#blob(repository, job);
    return {
      mediaType: await layer.mediaType(this.#readOptions()),
      size: await layer.size(this.#readOptions()),
      digest,
    };
  }

  #readOptions(): { signal?: AbortSignal } {
    return this.#signal ? { signal: this.#signal } : {};
  }

  // ---- planning ---------------------------------------------------------------------------

  #planBlob(repository: Repository, digest: Hash, size: number): void {
    const key = `${repository.name}|${digest}`;
    if (this.#plannedBlobs.has(key)) return;
    this.#plannedBlobs.add(key);
    this.#progress.plan(size);
  }

  #planManifest(repository: Repository, identifier: string, size: number | undefined): void {
    const key = `${repository.name}|${identifier}`;
    if (size === undefined || this.#plannedManifests.has(key)) return;
    this.#plannedManifests.add(key);
    this.#progress.plan(size);
  }

  #expect(repository: Repository, digest: Hash | undefined): void {
    if (!digest) return;
    const key = `${repository.name}|${digest}`;
    if (!this.#done.has(key)) this.#done.set(key, new Deferred());
  }

  async #blobJob(layer: Layer): Promise<BlobJob> {
    const options = this.#readOptions();
    return {
      layer,
      digest: await ifComputed(() => layer.digest(options)),
      size: await ifComputed(() => layer.size(options)),
      origin: originOf(layer),
    };
  }

  /**
   * The digest a manifest HEAD reports; undefined when absent (404, or 403 as on Docker Hub).
   * Sent once per operation, on the wide limit of existence checks.
   */
  #headManifest(repository: Repository, identifier: string): Promise<Hash | undefined> {
    const key = `${repository.name}|${identifier}`;
    let head = this.#heads.get(key);
    if (!head) {
      head = this.#checks.run(() => this.#sendHead(repository, identifier), this.#signal);
      head.catch(() => {});
      this.#heads.set(key, head);
    }
    return head;
  }

  async #sendHead(repository: Repository, identifier: string): Promise<Hash | undefined> {
    const fetcher = new Fetcher(this.#state.client, repository, {
      maxManifestBytes: this.#options.maxManifestBytes,
      access: "push",
      signal: this.#signal,
    });
    try {
      const head = await fetcher.headManifest(identifier, { accept: MANIFEST_ACCEPT });
      return head.digest ?? (Hash.isValid(identifier) ? Hash.parse(identifier) : undefined);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "HOIST_REMOTE_NOT_FOUND" || code === "HOIST_REMOTE_DENIED") return undefined;
      throw error;
    }
  }

  /** Sends the HEADs of an index's child manifests (answers kept for when they are planned). */
  #headChildren(repository: Repository, manifest: IndexManifest): void {
    for (const child of manifest.manifests) {
      if (isIndex(child.mediaType) || isImage(child.mediaType)) {
        this.#headManifest(repository, child.digest.toString());
      }
    }
  }

  /**
   * Sends at once the checks a push of `item` will make after the tag's HEAD: its own manifest
   * and, for an index, its children's; for an image, its first blobs. A cold push then waits
   * for one round of HEADs instead of one per level (go-containerregistry asks level by level).
   * A push whose tag already names the item has sent a few HEADs more than it needed.
   */
  async #checkAhead(repository: Repository, item: Pushable, digest: Hash): Promise<void> {
    const options = this.#readOptions();
    this.#headManifest(repository, digest.toString());
    if (isIndexLike(item)) {
      this.#headChildren(repository, await item.indexManifest(options));
    } else if (isImageLike(item)) {
      const manifest = await item.manifest(options);
      const blobs = [manifest.config, ...manifest.layers].slice(0, this.#options.jobs);
      for (const blob of blobs) {
        if (this.#options.allowNondistributableArtifacts || isDistributable(blob.mediaType)) {
          this.#exists(repository, blob.digest).catch(() => {});
        }
      }
    }
  }

  /** Digest and size of anything pushable, or undefined while a streamed layer is unread. */
  async #identity(item: Pushable): Promise<{ digest: Hash; size: number } | undefined> {
    const options = this.#readOptions();
    if (isImageLike(item) || isIndexLike(item)) {
      const digest = await ifComputed(() => item.digest(options));
      const size = await ifComputed(() => item.size(options));
      return digest && size !== undefined ? { digest, size } : undefined;
    }
    const raw = await item.rawManifest(options);
    const mediaType = await item.mediaType(options);
    const digest =
      (isSchema1(mediaType) ? schema1PayloadDigest(raw) : undefined) ?? Hash.compute(raw);
    return { digest, size: raw.byteLength };
  }

  async #planRoot(entry: PushEntry): Promise<Root> {
    const repository = entry.reference.repository;
    const identifier = entry.reference.identifier;
    const item = entry.item;
    if (!entry.unchecked && entry.reference.kind === "tag") {
      // Pushing to a tag that already names this exact manifest is a no-op.
      const identity = await this.#identity(item);
      const tagged = this.#headManifest(repository, identifier);
      if (identity) await this.#checkAhead(repository, item, identity.digest);
      if (identity && (await tagged)?.equals(identity.digest)) {
        this.#planManifest(repository, identifier, identity.size);
        const node: RawNode = {
          kind: "raw",
          digest: identity.digest,
          size: identity.size,
          raw: new Uint8Array(),
          mediaType: await item.mediaType(this.#readOptions()),
          present: true,
          upToDate: true,
          blobs: [],
          subject: undefined,
        };
        return { reference: entry.reference, node };
      }
    }
    const node = await this.#plan(repository, item, identifier, !entry.unchecked, entry.blobs);
    return { reference: entry.reference, node };
  }

  async #plan(
    repository: Repository,
    item: Pushable,
    identifier: string,
    check: boolean,
    blobs: BlobJob[] = [],
  ): Promise<Node> {
    if (isIndexLike(item)) return this.#planIndex(repository, item, identifier, check);
    if (isImageLike(item)) return this.#planImage(repository, item, identifier, check);
    const options = this.#readOptions();
    const raw = await item.rawManifest(options);
    const mediaType = await item.mediaType(options);
    const digest =
      (isSchema1(mediaType) ? schema1PayloadDigest(raw) : undefined) ?? Hash.compute(raw);
    const present = check
      ? (await this.#headManifest(repository, digest.toString())) !== undefined
      : false;
    if (!present) {
      for (const job of blobs) {
        if (job.digest && job.size !== undefined) this.#planBlob(repository, job.digest, job.size);
      }
    }
    this.#planManifest(repository, identifier, raw.byteLength);
    this.#expect(repository, digest);
    return {
      kind: "raw",
      digest,
      size: raw.byteLength,
      raw,
      mediaType,
      present,
      upToDate: false,
      blobs: present ? [] : blobs,
      subject: subjectOf(raw),
    };
  }

  async #planImage(
    repository: Repository,
    image: Image,
    identifier: string,
    check: boolean,
  ): Promise<ImageNode> {
    const options = this.#readOptions();
    const digest = await ifComputed(() => image.digest(options));
    const size = await ifComputed(() => image.size(options));
    this.#planManifest(repository, identifier, size);
    this.#expect(repository, digest);
    const node: ImageNode = {
      kind: "image",
      image,
      digest,
      size,
      present: false,
      upToDate: false,
      layers: [],
      config: undefined,
      subject: undefined,
    };
    if (digest && check && (await this.#headManifest(repository, digest.toString()))) {
      node.present = true;
      return node;
    }
    for (const layer of await image.layers(options)) {
      if (!this.#options.allowNondistributableArtifacts) {
        const mediaType = await layer.mediaType(options);
        if (!isDistributable(mediaType)) continue;
      }
      const job = await this.#blobJob(layer);
      if (job.digest && job.size !== undefined) this.#planBlob(repository, job.digest, job.size);
      node.layers.push(job);
    }
    if (digest) {
      const manifest = await image.manifest(options);
      node.config = {
        layer: configLayer(image),
        digest: manifest.config.digest,
        size: manifest.config.size,
        origin: originOf(image),
      };
      this.#planBlob(repository, manifest.config.digest, manifest.config.size);
      node.subject = manifest.subject?.digest;
    }
    return node;
  }

  async #planIndex(
    repository: Repository,
    index: ImageIndex,
    identifier: string,
    check: boolean,
  ): Promise<IndexNode> {
    const options = this.#readOptions();
    const raw = await index.rawManifest(options);
    const digest = await index.digest(options);
    const mediaType = await index.mediaType(options);
    this.#planManifest(repository, identifier, raw.byteLength);
    this.#expect(repository, digest);
    const manifest = await index.indexManifest(options);
    const node: IndexNode = {
      kind: "index",
      digest,
      size: raw.byteLength,
      raw,
      mediaType,
      present: false,
      upToDate: false,
      children: [],
      subject: manifest.subject?.digest,
    };
    if (check) {
      const own = this.#headManifest(repository, digest.toString());
      // The children are asked about with the index, not after it (see #checkAhead).
      this.#headChildren(repository, manifest);
      if (await own) {
        node.present = true;
        return node;
      }
    }
    node.children = await Promise.all(
      manifest.manifests.map(async (child): Promise<{ node: Node } | { blob: BlobJob }> => {
        const childId = child.digest.toString();
        const nested = isIndex(child.mediaType);
        if (nested || isImage(child.mediaType)) {
          // A child already in the repository needs nothing below it: not even to be read.
          if (await this.#headManifest(repository, childId)) {
            this.#planManifest(repository, childId, child.size);
            this.#expect(repository, child.digest);
            return {
              node: {
                kind: "raw",
                digest: child.digest,
                size: child.size,
                raw: new Uint8Array(),
                mediaType: child.mediaType,
                present: true,
                upToDate: true,
                blobs: [],
                subject: undefined,
              },
            };
          }
          const value = nested
            ? await this.#limited(() => index.imageIndex(child.digest, options))
            : await this.#limited(() => index.image(child.digest, options));
          return { node: await this.#plan(repository, value, childId, false) };
        }
        // Indexes may point at plain blobs; they are pushed as blobs.
        const job = await this.#blobJob(await index.blob(child.digest, options));
        if (job.digest && job.size !== undefined) this.#planBlob(repository, job.digest, job.size);
        return { blob: job };
      }),
    );
    return node;
  }

  // ---- execution --------------------------------------------------------------------------

  async #executeRoot(root: Root): Promise<Descriptor> {
    const repository = root.reference.repository;
    await this.#execute(repository, root.node, root.reference.identifier);
    const node = root.node;
    if (node.kind === "image") {
      const options = this.#readOptions();
      return {
        mediaType: await node.image.mediaType(options),
        size: await node.image.size(options),
        digest: await node.image.digest(options),
      };
    }
    return { mediaType: node.mediaType, size: node.size, digest: node.digest };
  }

  #execute(repository: Repository, node: Node, identifier: string): Promise<void> {
    const key = `${repository.name}|${identifier}`;
    let task = this.#manifests.get(key);
    if (!task) {
      task = this.#push(repository, node, identifier);
      this.#manifests.set(key, task);
      task.catch((error: unknown) => {
        if (node.digest) this.#done.get(`${repository.name}|${node.digest}`)?.reject(error);
      });
    }
    return task;
  }

  async #push(repository: Repository, node: Node, identifier: string): Promise<void> {
    const options = this.#readOptions();
    const byDigest = node.digest !== undefined && identifier === node.digest.toString();
    if (node.upToDate || (node.present && byDigest)) {
      this.#progress.advance(node.size ?? 0);
      if (node.digest) this.#done.get(`${repository.name}|${node.digest}`)?.resolve();
      return;
    }
    let subject: Hash | undefined = node.subject;
    if (!node.present) subject = (await this.#dependencies(repository, node)) ?? subject;
    const raw = node.kind === "image" ? await node.image.rawManifest(options) : node.raw;
    const mediaType = node.kind === "image" ? await node.image.mediaType(options) : node.mediaType;
    const digest =
      node.digest ??
      (isSchema1(mediaType) ? schema1PayloadDigest(raw) : undefined) ??
      Hash.compute(raw);
    if (subject) {
      // A referrer goes up after its subject when both are part of this push.
      await this.#done.get(`${repository.name}|${subject}`)?.promise;
    }
    this.#planManifest(repository, identifier, raw.byteLength);
    const subjectHandled = await this.#limited(() =>
      this.#putManifest(repository, identifier, raw, mediaType),
    );
    this.#progress.advance(raw.byteLength);
    this.#done.get(`${repository.name}|${digest}`)?.resolve();
    if (subject && !subjectHandled && !node.present) {
      await this.#maintainReferrers(
        repository,
        subject,
        referrerDescriptor(raw, mediaType, digest),
      );
    }
  }

  /**
   * Pushes what a manifest depends on. For an image: layers and config together, or, when a
   * layer is streamed, layers first (its digest, and so the config, exist only after upload). Returns the subject when it
   * could only be learned now (an image whose manifest waited for streamed layers).
   */
  async #dependencies(repository: Repository, node: Node): Promise<Hash | undefined> {
    if (node.kind === "index") {
      await Promise.all(
        node.children.map((child) =>
          "blob" in child
            ? this.#blob(repository, child.blob)
            : this.#execute(repository, child.node, (child.node.digest as Hash).toString()),
        ),
      );
      return undefined;
    }
    if (node.kind === "raw") {
      await Promise.all(node.blobs.map((job) => this.#blob(repository, job)));
      return undefined;
    }
    if (node.config) {
      // A known config goes up with the layers (as in go-containerregistry): the registry does
      // not care about the order, and waiting would add its round trips after the last layer.
      const config = node.config;
      await Promise.all([...node.layers, config].map((job) => this.#blob(repository, job)));
      return undefined;
    }
    await Promise.all(node.layers.map((job) => this.#blob(repository, job)));
    const image = node.image;
    const manifest = await image.manifest(this.#readOptions());
    await this.#blob(repository, {
      layer: configLayer(image),
      digest: manifest.config.digest,
      size: manifest.config.size,
      origin: originOf(image),
    });
    return manifest.subject?.digest;
  }

  /** One blob in place, once per repository and digest for the whole operation. */
  #blob(repository: Repository, job: BlobJob): Promise<Hash> {
    if (!job.digest) {
      const first = this.#streams.get(job.layer);
      if (!first) {
        const digest = this.#limited(() => this.#uploader(repository).upload(job));
        this.#streams.set(job.layer, { repository, digest });
        return digest;
      }
      if (first.repository.name === repository.name) return first.digest;
      // The same streamed layer in another repository: once it is up, it can be mounted.
      return (async () => {
        const digest = await first.digest;
        const size = await job.layer.size(this.#readOptions());
        return this.#blob(repository, { ...job, digest, size, origin: first.repository });
      })();
    }
    const key = `${repository.name}|${job.digest}`;
    let task = this.#blobs.get(key);
    if (!task) {
      if (job.size !== undefined) this.#planBlob(repository, job.digest, job.size);
      task = this.#checkThenUpload(repository, job, job.digest);
      this.#blobs.set(key, task);
    }
    return task;
  }

  /**
   * Existence checks are HEADs the registry answers from its metadata, so they run on a wider
   * limit of their own: a push of many blobs asks about all of them at once rather than a few
   * at a time between uploads. Only a blob that is missing takes a job slot, and up to `jobs`
   * of those waiting for one have their upload session opened meanwhile: each slot then moves
   * bytes from its start, where it used to wait a POST's round trip per blob first. At the
   * other end, a blob whose bytes are sent waits for the registry to commit it outside its slot.
   */
  async #checkThenUpload(repository: Repository, job: BlobJob, digest: Hash): Promise<Hash> {
    const uploader = this.#uploader(repository);
    if (await this.#exists(repository, digest)) return uploader.upload(job, { present: true });
    return uploader.upload(job, { present: false, turns: this.#turns });
  }

  /** Whether a blob is in the repository: known already, or asked (HEAD) once per operation. */
  #exists(repository: Repository, digest: Hash): Promise<boolean> {
    if (this.#state.knowledge.has(repository, digest)) return Promise.resolve(true);
    const key = `${repository.name}|${digest}`;
    let check = this.#existence.get(key);
    if (!check) {
      const uploader = this.#uploader(repository);
      check = this.#checks.run(() => uploader.exists(digest), this.#signal);
      this.#existence.set(key, check);
    }
    return check;
  }

  async #putManifest(
    repository: Repository,
    identifier: string,
    raw: Uint8Array,
    mediaType: string,
  ): Promise<boolean> {
    const reference = identifier.includes(":")
      ? `${repository.name}@${identifier}`
      : `${repository.name}:${identifier}`;
    return translating({ operation: "put manifest", reference, signal: this.#signal }, async () => {
      const session = await this.#state.client.session(repository, "push", this.#signal);
      const response = await session.request({
        method: "PUT",
        path: `/v2/${repository.path}/manifests/${identifier}`,
        headers: { "content-type": mediaType },
        body: raw,
        ...this.#readOptions(),
      });
      await response.discard();
      // OCI 1.1 registries confirm they index the subject; others need the fallback tag.
      return response.headers.has("oci-subject");
    });
  }

  /**
   * Keeps the `sha256-<hex>` fallback tag of `subject` listing `descriptor`, when the registry
   * has no referrers API (distribution 2.8, GHCR). Read, add, sort, write, one writer per
   * subject at a time; writes racing from other clients can still be lost (the tag schema has
   * no conditional update).
   */
  async #maintainReferrers(
    repository: Repository,
    subject: Hash,
    descriptor: Descriptor,
  ): Promise<void> {
    if (!this.#options.referrersTagFallback) return;
    const reference = `${repository.name}@${subject}`;
    await translating(
      { operation: "update referrers", reference, signal: this.#signal },
      async () => {
        const session = await this.#state.client.session(repository, "push", this.#signal);
        const host = repository.registry.host;
        let api = this.#state.referrersApi.get(host);
        if (api === undefined) {
          api = await this.#limited(() =>
            hasReferrersApi(session, repository, subject, this.#signal),
          );
          this.#state.referrersApi.set(host, api);
        }
        if (api) return;
        await this.#state.lock(reference, async () => {
          const fetcher = new Fetcher(this.#state.client, repository, {
            maxManifestBytes: this.#options.maxManifestBytes,
            access: "push",
            signal: this.#signal,
          });
          const existing = await this.#limited(() =>
            readFallbackIndex(fetcher, subject, {
              signal: this.#signal,
              jobs: this.#options.jobs,
              validate: false,
            }),
          );
          const next = addToFallbackIndex(existing, descriptor);
          if (!next) return;
          const body = new TextEncoder().encode(JSON.stringify(next));
          await this.#limited(() =>
            this.#putManifest(repository, fallbackTag(subject), body, MediaType.OCI_INDEX),
          );
        });
      },
    );
  }
}
