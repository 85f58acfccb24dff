import type { Readable } from "node:stream";

/** Options every storage operation takes. */
export interface StorageCallOptions {
  signal?: AbortSignal;
}

/** A blob's content as stored: its digest and byte count. */
export interface BlobStat {
  digest: string;
  size: number;
}

/** An upload session: bytes received so far, not yet a blob. */
export interface UploadState {
  id: string;
  repository: string;
  /** Bytes received so far. */
  size: number;
  startedAt: Date;
}

/** A manifest as stored, with the exact bytes it was pushed with. */
export interface StoredManifest {
  digest: string;
  /** The media type it was pushed as (the PUT's Content-Type, without parameters). */
  mediaType: string;
  size: number;
  bytes: Uint8Array;
}

/** How a referrer is listed by the referrers API: a descriptor of the referring manifest. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** What `putManifest` stores. */
export interface ManifestToStore {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
  /** Present when the manifest has a `subject`: it is listed among that subject's referrers. */
  referrer?: { subject: string; descriptor: ReferrerDescriptor };
}

/**
 * Where a registry keeps its content. {@link memoryStorage} and {@link fileStorage} implement
 * it; another backend can too. The registry validates every digest, repository name, tag and
 * upload id before calling, and serialises the calls that touch one upload or one repository's
 * manifests, so implementations need no locking of their own.
 *
 * The contract that makes the registry crash-safe: blob content becomes visible (to
 * `statBlob`, `readBlob`) only in {@link RegistryStorage.commitUpload}, only after its bytes
 * were verified against the digest, and atomically.
 */
export interface RegistryStorage {
  /** A short name for logs: "memory", "file". */
  readonly kind: string;

  /** The blob's size when its content is stored (in any repository), else undefined. */
  statBlob(digest: string, options?: StorageCallOptions): Promise<BlobStat | undefined>;
  /**
   * The blob's bytes, or the inclusive byte range `start`…`end`. Throws RegistryError
   * `HOIST_REGISTRY_BLOB_UNKNOWN` when it is not stored.
   */
  readBlob(
    digest: string,
    options?: StorageCallOptions & { start?: number; end?: number },
  ): Promise<Readable>;
  /** Whether the repository may serve the blob (it was pushed or mounted there). */
  isBlobLinked(repository: string, digest: string, options?: StorageCallOptions): Promise<boolean>;
  linkBlob(repository: string, digest: string, options?: StorageCallOptions): Promise<void>;
  /** Removes the blob from the repository; true when it was linked. Content stays for others. */
  unlinkBlob(repository: string, digest: string, options?: StorageCallOptions): Promise<boolean>;

  createUpload(repository: string, options?: StorageCallOptions): Promise<UploadState>;
  getUpload(id: string, options?: StorageCallOptions): Promise<UploadState | undefined>;
  /**
   * Drops any bytes after `offset`, then appends what `source` yields. Returns the new size.
   * When `source` fails midway, the bytes already written stay (the caller decides whether to
   * truncate them away) and the error is rethrown.
   */
  writeUpload(
    id: string,
    offset: number,
    source: AsyncIterable<Uint8Array>,
    options?: StorageCallOptions,
  ): Promise<number>;
  truncateUpload(id: string, size: number, options?: StorageCallOptions): Promise<void>;
  /** The bytes received so far. */
  readUpload(id: string, options?: StorageCallOptions): Promise<Readable>;
  /**
   * Turns the upload into the blob `digest` and removes the session. Unless `verified` is
   * the same digest (computed by the caller while the bytes streamed in), the bytes are hashed
   * again first. Throws RegistryError `HOIST_REGISTRY_DIGEST_MISMATCH`, keeping the upload,
   * when they do not match.
   */
  commitUpload(
    id: string,
    digest: string,
    options?: StorageCallOptions & { verified?: string },
  ): Promise<BlobStat>;
  /** True when the upload existed. */
  deleteUpload(id: string, options?: StorageCallOptions): Promise<boolean>;

  putManifest(
    repository: string,
    manifest: ManifestToStore,
    options?: StorageCallOptions,
  ): Promise<void>;
  getManifest(
    repository: string,
    digest: string,
    options?: StorageCallOptions,
  ): Promise<StoredManifest | undefined>;
  /** Removes the manifest, every tag pointing at it and its referrer entry. True when it existed. */
  deleteManifest(
    repository: string,
    digest: string,
    options?: StorageCallOptions,
  ): Promise<boolean>;

  getTag(
    repository: string,
    tag: string,
    options?: StorageCallOptions,
  ): Promise<string | undefined>;
  setTag(
    repository: string,
    tag: string,
    digest: string,
    options?: StorageCallOptions,
  ): Promise<void>;
  deleteTag(repository: string, tag: string, options?: StorageCallOptions): Promise<boolean>;
  /** Every tag of the repository, in any order. */
  listTags(repository: string, options?: StorageCallOptions): Promise<string[]>;

  /** Descriptors of the manifests in the repository whose `subject` is `subject`. */
  listReferrers(
    repository: string,
    subject: string,
    options?: StorageCallOptions,
  ): Promise<ReferrerDescriptor[]>;

  /** A repository exists once it holds a blob, a manifest or a tag. */
  repositoryExists(repository: string, options?: StorageCallOptions): Promise<boolean>;
  /** Every existing repository, in any order. */
  listRepositories(options?: StorageCallOptions): Promise<string[]>;
}
