import { pipeline, Readable, Transform } from "node:stream";
import type { Repository } from "@hoist/name";
import {
  DRAIN,
  type Drainable,
  type DrainSink,
  FILL,
  type Fillable,
  type Hash,
  isDrainable,
  isFillable,
  type Layer,
  raceAbort,
  type StreamLayer,
} from "@hoist/oci";
import type { Session } from "@hoist/transport";
import type { BlobKnowledge } from "./blob-knowledge.js";
import type { RemoteClient } from "./client.js";
import { RemoteError } from "./errors.js";
import type { Limiter } from "./limiter.js";
import type { BlobCounter, ProgressTracker } from "./progress.js";
import { translateError, translating } from "./translate-error.js";
import {
  type ChunkSender,
  cancelUpload,
  chunksOf,
  sendChunk,
  uploadLocation,
  withDigest,
} from "./upload-session.js";

/** One blob to put into a repository. */
export interface BlobJob {
  /** Where the bytes come from (`compressed()` is the blob as stored). */
  layer: Layer;
  /** Undefined for a streamed layer: its digest is learned while it uploads. */
  digest: Hash | undefined;
  size: number | undefined;
  /** A repository the blob is known to live in (where it was pulled from), for mounting. */
  origin: Repository | undefined;
}

/** An upload session opened before its blob holds a job slot. */
interface OpenedSession {
  /** The session's URL, or "mounted" when the registry mounted the blob instead. */
  readonly started: Promise<URL | "mounted">;
  /** Whether it asked for a mount (then the blob's source is not opened beside it). */
  readonly mounting: boolean;
  /** The blob's source, opened beside the session when no mount was asked for. */
  readonly early: EarlySource | undefined;
}

/** The job slots an operation's blobs take turns in (see `UploadOptions.turns`). */
export interface UploadTurns {
  /** Blobs moving bytes at once. */
  readonly slots: Limiter;
  /** Blobs waiting for a slot with their upload session open, at most. */
  readonly ahead: Limiter;
  /** Blobs whose bytes are all sent, waiting for the registry's answer outside a slot, at most. */
  readonly answering: Limiter;
}

/**
 * A blob's turn while it uploads. Its bytes move inside a job slot; once they are all sent,
 * the wait for the registry's answer (it commits the blob then: for a small blob, a good part of
 * the upload) moves to an answering turn if one is free, and the slot starts another blob's
 * bytes meanwhile. A retry takes a slot again before it sends anything.
 */
interface BlobTurn {
  /** All the bytes are sent. */
  sent(): void;
  /** Holds a slot again, for another attempt. */
  hold(): Promise<void>;
  /** Gives back whatever it holds. */
  end(): void;
}

function blobTurn(turns: UploadTurns, release: () => void, signal?: AbortSignal): BlobTurn {
  let slot: (() => void) | undefined = release;
  let answering: (() => void) | undefined;
  return {
    sent() {
      if (!slot) return;
      answering = turns.answering.tryAcquire();
      if (!answering) return;
      slot();
      slot = undefined;
    },
    async hold() {
      if (slot) return;
      slot = await turns.slots.acquire(signal);
      answering?.();
      answering = undefined;
    },
    end() {
      slot?.();
      slot = undefined;
      answering?.();
      answering = undefined;
    },
  };
}

/** What `BlobUploader.upload` knows already, and how it takes its turn. */
export interface UploadOptions {
  /**
   * The answer of an existence check the caller made; undefined means the upload checks
   * (HEAD) itself. A blob known to be present is not touched.
   */
  present?: boolean;
  /**
   * Given, the upload takes a slot itself, once it knows it has bytes to send, and opens its
   * session before it waits for one. Otherwise the caller holds a slot already.
   */
  turns?: UploadTurns;
}

export interface UploaderDeps {
  client: RemoteClient;
  knowledge: BlobKnowledge;
  progress: ProgressTracker;
  /** Blobs larger than this go up in PATCH chunks of this size. */
  chunkSize: number | undefined;
  signal: AbortSignal | undefined;
}

/** Whole-blob attempts (HEAD, POST, data, PUT) for blobs that can be read again. */
const BLOB_ATTEMPTS = 3;
const CHUNK_ATTEMPTS = 4;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Failures worth starting the blob over for: the network, server trouble, lost sessions. */
function worthRetrying(error: unknown): boolean {
  if (!RemoteError.is(error)) return false;
  if (error.code === "HOIST_REMOTE_NETWORK" || error.code === "HOIST_REMOTE_UPLOAD_FAILED") {
    return true;
  }
  if (error.code !== "HOIST_REMOTE_REGISTRY_ERROR" && error.code !== "HOIST_REMOTE_NOT_FOUND") {
    return false;
  }
  const status = error.status ?? 0;
  return (
    status >= 500 ||
    status === 408 ||
    status === 429 ||
    error.registryErrors.some(
      (entry) => entry.code === "BLOB_UPLOAD_INVALID" || entry.code === "BLOB_UPLOAD_UNKNOWN",
    )
  );
}

/** Where a request body reports the bytes it has sent. */
type SentBytes = Pick<BlobCounter, "at">;

/** Counts into `counter`, and calls `sent` once `size` bytes have gone (a retry calls it again). */
function reportingSent(counter: BlobCounter, size: number, sent: () => void): SentBytes {
  return {
    at(bytes) {
      counter.at(bytes);
      if (bytes >= size) sent();
    },
  };
}

/** Counts bytes on their way into a request body. */
function counting(source: Readable, counter: SentBytes): Readable {
  if (isFillable(source) || isDrainable(source)) return new CountingBody(source, counter);
  let sent = 0;
  return pipeline(
    source,
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        counter.at(sent);
        callback(null, chunk);
      },
    }),
    () => {},
  );
}

/**
 * A request body over a source the transport can fill (a verified layout blob) or drain (a
 * verified download, copied): each fill or view is counted on its way, and the source's own
 * reads are used, so its reused buffers stay reused. Read as a stream, it reads the source as
 * a stream. Filled or drained, it reports failures through the promise, not as stream errors.
 */
class CountingBody extends Readable implements Partial<Fillable & Drainable> {
  readonly #source: Readable & Partial<Fillable & Drainable>;
  readonly #counter: SentBytes;
  #sent = 0;
  #streaming = false;
  readonly [FILL]?: (into: Uint8Array) => Promise<number>;
  readonly [DRAIN]?: (sink: DrainSink) => Promise<void>;

  constructor(source: Readable & Partial<Fillable & Drainable>, counter: SentBytes) {
    super();
    this.#source = source;
    this.#counter = counter;
    source.once("error", (error) => this.destroy(error));
    if (isFillable(source)) this[FILL] = (into) => this.#fill(source, into);
    else if (isDrainable(source)) this[DRAIN] = (sink) => this.#drain(source, sink);
  }

  async #fill(source: Fillable, into: Uint8Array): Promise<number> {
    this.#quiet();
    const bytes = await source[FILL](into);
    this.#count(bytes);
    return bytes;
  }

  #drain(source: Drainable, sink: DrainSink): Promise<void> {
    this.#quiet();
    return source[DRAIN]((view) => {
      const waiting = sink(view);
      this.#count(view.length);
      return waiting;
    });
  }

  /** Filled or drained, failures reach the caller through promises. */
  #quiet(): void {
    if (this.listenerCount("error") === 0) this.on("error", () => {});
  }

  #count(bytes: number): void {
    this.#sent += bytes;
    this.#counter.at(this.#sent);
  }

  override _read(): void {
    if (this.#streaming) {
      this.#source.resume();
      return;
    }
    this.#streaming = true;
    this.#source.on("data", (chunk: Buffer) => {
      this.#count(chunk.length);
      if (!this.push(chunk)) this.#source.pause();
    });
    this.#source.once("end", () => this.push(null));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#source.destroyed) {
      this.#source.on("error", () => {});
      this.#source.destroy();
    }
    callback(error);
  }
}

/**
 * A blob's source opened ahead of its upload session: `take()` hands it over once; `release()`
 * closes it if it was never taken.
 */
class EarlySource {
  #stream: Promise<Readable> | undefined;

  constructor(open: () => Promise<Readable>) {
    this.#stream = open();
    // A failure surfaces when the upload takes the stream; until then it is not unhandled. An
    // abort can also destroy the stream while it waits (a layer's stream follows the signal):
    // that error is the upload's to report, not an uncaught one.
    this.#stream.then(
      (stream) => stream.on("error", () => {}),
      () => {},
    );
  }

  take(): Promise<Readable> | undefined {
    const stream = this.#stream;
    this.#stream = undefined;
    return stream;
  }

  release(): void {
    this.take()?.then(
      (stream) => stream.destroy(),
      () => {},
    );
  }
}

/**
 * Puts blobs into one repository: skips what exists (HEAD), mounts what lives in
 * another repository of the same registry, and otherwise uploads monolithically (one PUT),
 * in chunks (PATCH … PUT), or streaming (for layers whose digest is known only once read).
 */
export class BlobUploader {
  readonly repository: Repository;
  readonly #deps: UploaderDeps;

  constructor(repository: Repository, deps: UploaderDeps) {
    this.repository = repository;
    this.#deps = deps;
  }

  #session(): Promise<Session> {
    return this.#deps.client.session(this.repository, "push", this.#deps.signal);
  }

  #reference(digest: Hash | undefined): string {
    return digest
      ? `${this.repository.name}@${digest}`
      : `${this.repository.name} (streamed layer)`;
  }

  #signalOptions(): { signal?: AbortSignal } {
    return this.#deps.signal ? { signal: this.#deps.signal } : {};
  }

  /** Whether the repository has the blob (HEAD: 200 yes, 404 no, anything else an error). */
  async exists(digest: Hash): Promise<boolean> {
    const context = {
      operation: "head blob",
      reference: this.#reference(digest),
      signal: this.#deps.signal,
    };
    return translating(context, async () => {
      const session = await this.#session();
      const response = await session.request({
        method: "HEAD",
        path: `/v2/${this.repository.path}/blobs/${digest}`,
        expectStatus: [200, 404],
        ...this.#signalOptions(),
      });
      await response.discard();
      return response.status === 200;
    });
  }

  /**
   * Puts one blob in place and returns its digest. The caller holds a job slot, unless it
   * already knows the blob is present (then nothing is sent).
   */
  async upload(job: BlobJob, options: UploadOptions = {}): Promise<Hash> {
    const { present, turns } = options;
    const counter = this.#deps.progress.counter(job.size);
    if (!job.digest) return this.#uploadStreamed(job, counter);
    const digest = job.digest;
    const { knowledge } = this.#deps;
    if (knowledge.has(this.repository, digest) || (present ?? (await this.exists(digest)))) {
      knowledge.add(this.repository, digest);
      counter.done();
      return digest;
    }
    // Another push through this Pusher (a tag of the same image, copied side by side) may be
    // putting the same blob into the same repository right now. Writing it again is not only
    // wasted: docker-registry rewrites the repository's link to the blob by truncating it
    // first, and a manifest PUT that reads the link meanwhile fails with MANIFEST_BLOB_UNKNOWN.
    for (let running = knowledge.inFlight(this.repository, digest); running; ) {
      const landed = await raceAbort(
        running.then(
          () => true,
          () => false,
        ),
        this.#deps.signal,
      );
      if (landed) {
        counter.done();
        return digest;
      }
      running = knowledge.inFlight(this.repository, digest);
    }
    // Tracked from before its session opens: a mount, too, rewrites the repository's link.
    const putting = turns
      ? this.#putInTurn(job, digest, counter, turns)
      : this.#put(job, digest, counter, undefined);
    return knowledge.track(this.repository, digest, putting);
  }

  /**
   * Opens the blob's upload session (POST, or a mount) while it waits for a slot, with at most
   * `turns.ahead` blobs waiting so: the session's round trip then overlaps the transfers in
   * flight instead of coming first in the slot.
   */
  async #putInTurn(
    job: BlobJob,
    digest: Hash,
    counter: BlobCounter,
    turns: UploadTurns,
  ): Promise<Hash> {
    const { signal } = this.#deps;
    const leaveQueue = await turns.ahead.acquire(signal);
    let opened: OpenedSession | undefined;
    let turn: BlobTurn;
    try {
      const sources = this.#mountSources(job, digest);
      const started = this.#start(digest, sources);
      // A failure is reported by the attempt that takes the session.
      started.catch(() => {});
      const mounting = sources.length > 0;
      // The source opens now too: a blob copied from another registry then has its first bytes
      // on their way when it takes its slot, not a GET's round trip later.
      opened = { started, mounting, early: mounting ? undefined : this.#early(job) };
      turn = blobTurn(turns, await turns.slots.acquire(signal), signal);
    } catch (error) {
      if (opened) this.#discard(opened);
      throw error;
    } finally {
      leaveQueue();
    }
    try {
      return await this.#put(job, digest, counter, opened, turn);
    } finally {
      turn.end();
    }
  }

  #early(job: BlobJob): EarlySource {
    return new EarlySource(() => job.layer.compressed(this.#signalOptions()));
  }

  /** Closes a session and source opened ahead that no attempt took (in the background). */
  #discard(opened: OpenedSession): void {
    opened.early?.release();
    opened.started.then(
      (started) => {
        if (started instanceof URL) this.#cancel(started);
      },
      () => {},
    );
  }

  async #put(
    job: BlobJob,
    digest: Hash,
    counter: BlobCounter,
    opened: OpenedSession | undefined,
    turn?: BlobTurn,
  ): Promise<Hash> {
    const { knowledge } = this.#deps;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) await turn?.hold();
      let location: URL | undefined;
      // Only the first attempt takes a session opened ahead; a retry opens its own.
      const taken = attempt === 1 ? opened : undefined;
      const sources = taken ? [] : this.#mountSources(job, digest);
      const mounting = taken ? taken.mounting : sources.length > 0;
      // The first attempt opens the source while the registry opens the upload session (or
      // took it opened with a session ahead), not after: for a blob copied from another
      // registry, a round trip off every blob's path. Not when a mount may make the bytes unneeded.
      const early = attempt === 1 && !mounting ? (taken?.early ?? this.#early(job)) : undefined;
      try {
        const started = await (taken ? taken.started : this.#start(digest, sources));
        if (started === "mounted") {
          knowledge.add(this.repository, digest);
          counter.done();
          return digest;
        }
        location = started;
        await this.#send(location, job, digest, counter, early, turn);
        knowledge.add(this.repository, digest);
        counter.done();
        return digest;
      } catch (error) {
        const translated = translateError(error, {
          operation: "upload blob",
          reference: this.#reference(digest),
          signal: this.#deps.signal,
        });
        if (location) this.#cancel(location);
        if (attempt >= BLOB_ATTEMPTS || !worthRetrying(translated) || this.#deps.signal?.aborted) {
          throw translated;
        }
        await this.#pause(attempt);
        // The failed attempt may have landed the blob after all.
        if (await this.exists(digest)) {
          knowledge.add(this.repository, digest);
          counter.done();
          return digest;
        }
      } finally {
        early?.release();
      }
    }
  }

  /** Repositories of this registry the blob is known to live in, the layer's origin first. */
  #mountSources(job: BlobJob, digest: Hash): string[] {
    const sources: string[] = [];
    const origin = job.origin;
    if (
      origin &&
      origin.registry.host === this.repository.registry.host &&
      origin.path !== this.repository.path
    ) {
      sources.push(origin.path);
    }
    for (const path of this.#deps.knowledge.elsewhere(this.repository, digest)) {
      if (!sources.includes(path)) sources.push(path);
    }
    return sources;
  }

  /**
   * Opens an upload session. With a mount source, asks the registry to mount the blob from it:
   * 201 means done; 202 means it would not (the source lacks it, or the registry does not mount)
   * and the session it opened is used for the upload. Any other failure of the mount is retried
   * once without mount parameters.
   */
  async #start(digest: Hash | undefined, sources: readonly string[]): Promise<URL | "mounted"> {
    const session = await this.#session();
    const base = `/v2/${this.repository.path}/blobs/uploads/`;
    const from = sources[0];
    if (from !== undefined && digest) {
      // Reading the source needs its pull scope; the push scope stays first in the token request.
      session.addScopes([`repository:${from}:pull`]);
      try {
        const response = await session.request({
          method: "POST",
          path: `${base}?mount=${encodeURIComponent(digest.toString())}&from=${encodeURIComponent(from)}`,
          expectStatus: [201, 202],
          idempotent: true,
          ...this.#signalOptions(),
        });
        await response.discard();
        if (response.status === 201) return "mounted";
        const location = uploadLocation(response, "start upload");
        if (location) return location;
      } catch (error) {
        if (this.#deps.signal?.aborted) throw error;
        this.#deps.knowledge.forget(this.repository.registry.repository(from), digest);
      }
    }
    const response = await session.request({
      method: "POST",
      path: base,
      expectStatus: [202],
      idempotent: true,
      ...this.#signalOptions(),
    });
    await response.discard();
    const location = uploadLocation(response, "start upload");
    if (!location) {
      throw new RemoteError(
        `upload blob ${this.#reference(digest)}: the registry opened an upload without a Location header`,
        {
          code: "HOIST_REMOTE_BAD_RESPONSE",
          operation: "upload blob",
          reference: this.#reference(digest),
          status: response.status,
        },
      );
    }
    return location;
  }

  /** Sends the bytes of a blob whose digest and size are known, and commits it. */
  async #send(
    location: URL,
    job: BlobJob,
    digest: Hash,
    counter: BlobCounter,
    early: EarlySource | undefined,
    turn: BlobTurn | undefined,
  ): Promise<void> {
    const session = await this.#session();
    const { chunkSize, signal } = this.#deps;
    const size = job.size;
    const open = () => early?.take() ?? job.layer.compressed(this.#signalOptions());
    if (chunkSize !== undefined && size !== undefined && size > chunkSize) {
      const source = await open();
      const url = await this.#sendChunks(session, location, source, counter, digest);
      turn?.sent();
      await this.#commit(session, url, digest);
      return;
    }
    // Monolithic: one PUT with the whole blob. The body is a function, so the transport can
    // send it again after a reset or a 5xx; the counter never counts a byte twice. Such a resend
    // happens inside the request, after the turn may have left its slot: it is rare, and
    // bounded by the answering turns.
    const sent = turn && size !== undefined ? reportingSent(counter, size, turn.sent) : counter;
    const response = await session.request({
      method: "PUT",
      url: withDigest(location, digest),
      headers: { "content-type": "application/octet-stream" },
      body: async () => counting(await open(), sent),
      ...(size !== undefined ? { contentLength: size } : {}),
      ...(signal ? { signal } : {}),
    });
    await response.discard();
  }

  async #sendChunks(
    session: Session,
    location: URL,
    source: Readable,
    counter: BlobCounter,
    digest: Hash | undefined,
  ): Promise<URL> {
    const chunkSize = this.#deps.chunkSize as number;
    const sender: ChunkSender = {
      session,
      signal: this.#deps.signal,
      reference: this.#reference(digest),
      maxAttempts: CHUNK_ATTEMPTS,
      pause: (attempt) => this.#pause(attempt),
    };
    let url = location;
    let offset = 0;
    try {
      for await (const chunk of chunksOf(source, chunkSize)) {
        url = await sendChunk(sender, url, chunk, offset);
        offset += chunk.length;
        counter.at(offset);
      }
    } finally {
      source.destroy();
    }
    return url;
  }

  /** Finishes an upload session: `PUT <url>&digest=<digest>` without a body. */
  async #commit(session: Session, url: URL, digest: Hash): Promise<void> {
    const response = await session.request({
      method: "PUT",
      url: withDigest(url, digest),
      headers: { "content-type": "application/octet-stream" },
      ...this.#signalOptions(),
    });
    await response.discard();
  }

  /**
   * A layer whose digest is unknown until its bytes were read (a stream layer): upload while
   * reading, learn the digest at the end, commit with it. It cannot be retried or mounted: its
   * bytes can be read only once.
   */
  async #uploadStreamed(job: BlobJob, counter: BlobCounter): Promise<Hash> {
    const context = {
      operation: "upload blob",
      reference: this.#reference(undefined),
      signal: this.#deps.signal,
    };
    let location: URL | undefined;
    try {
      const session = await this.#session();
      const started = await this.#start(undefined, []);
      if (started === "mounted") throw new Error("unreachable: no mount was asked for");
      location = started;
      const source = await job.layer.compressed(this.#signalOptions());
      let url: URL;
      if (this.#deps.chunkSize !== undefined) {
        url = await this.#sendChunks(session, location, source, counter, undefined);
      } else {
        const response = await session.request({
          method: "PATCH",
          url: location,
          headers: { "content-type": "application/octet-stream" },
          body: counting(source, counter),
          ...this.#signalOptions(),
        });
        await response.discard();
        url = uploadLocation(response, "upload blob") ?? location;
      }
      const digest = await computedDigest(job.layer, this.#deps.signal);
      await this.#commit(session, url, digest);
      this.#deps.knowledge.add(this.repository, digest);
      return digest;
    } catch (error) {
      if (location) this.#cancel(location);
      throw translateError(error, context);
    }
  }

  #pause(attempt: number): Promise<void> {
    const policy = this.#deps.client.transport.retryPolicy;
    const delay = Math.min(
      policy.maxDelayMs,
      policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1),
    );
    return sleep(delay, this.#deps.signal);
  }

  #cancel(location: URL): void {
    cancelUpload(this.#session(), location);
  }
}

/** The digest of a layer that has just been read to its end. */
async function computedDigest(layer: Layer, signal: AbortSignal | undefined): Promise<Hash> {
  const stream = layer as Partial<StreamLayer>;
  if (typeof stream.whenComputed === "function") {
    return (await stream.whenComputed(signal ? { signal } : {})).digest;
  }
  return layer.digest(signal ? { signal } : {});
}
