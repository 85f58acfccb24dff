import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { Hash } from "@hoist/oci";
import { RegistryError } from "../errors.js";
import { blobUnknown, digestMismatch, uploadUnknown } from "./storage-errors.js";
import type {
  BlobStat,
  ManifestToStore,
  ReferrerDescriptor,
  RegistryStorage,
  StorageCallOptions,
  StoredManifest,
  UploadState,
} from "./types.js";

interface Repo {
  blobs: Set<string>;
  manifests: Map<string, { mediaType: string; bytes: Uint8Array }>;
  tags: Map<string, string>;
  /** subject digest -> referrer digest -> descriptor */
  referrers: Map<string, Map<string, ReferrerDescriptor>>;
}

interface Upload {
  repository: string;
  startedAt: Date;
  chunks: Buffer[];
  size: number;
}

/**
 * Storage that keeps everything in memory: fast, and gone when the process ends. Blob content
 * is shared between repositories and never evicted while the storage lives.
 */
export function memoryStorage(): RegistryStorage {
  const blobs = new Map<string, Buffer>();
  const repos = new Map<string, Repo>();
  const uploads = new Map<string, Upload>();

  const repo = (name: string): Repo => {
    let r = repos.get(name);
    if (!r) {
      r = { blobs: new Set(), manifests: new Map(), tags: new Map(), referrers: new Map() };
      repos.set(name, r);
    }
    return r;
  };
  const upload = (id: string, operation: string): Upload => {
    const u = uploads.get(id);
    if (!u) throw uploadUnknown(id, operation);
    return u;
  };
  const exists = (name: string): boolean => {
    const r = repos.get(name);
    return r !== undefined && (r.blobs.size > 0 || r.manifests.size > 0 || r.tags.size > 0);
  };
  const state = (id: string, u: Upload): UploadState => ({
    id,
    repository: u.repository,
    size: u.size,
    startedAt: u.startedAt,
  });

  return {
    kind: "memory",

    async statBlob(digest: string): Promise<BlobStat | undefined> {
      const content = blobs.get(digest);
      return content ? { digest, size: content.length } : undefined;
    },

    async readBlob(digest, options = {}) {
      const content = blobs.get(digest);
      if (!content) throw blobUnknown(digest);
      const start = options.start ?? 0;
      const end = options.end ?? content.length - 1;
      // One chunk per 64 KiB so a slow reader sees back-pressure like a file stream.
      const slice = content.subarray(start, end + 1);
      return Readable.from(chunked(slice), { objectMode: false, signal: options.signal });
    },

    async isBlobLinked(repository, digest) {
      return repos.get(repository)?.blobs.has(digest) ?? false;
    },
    async linkBlob(repository, digest) {
      repo(repository).blobs.add(digest);
    },
    async unlinkBlob(repository, digest) {
      return repos.get(repository)?.blobs.delete(digest) ?? false;
    },

    async createUpload(repository) {
      const id = randomUUID();
      const u: Upload = { repository, startedAt: new Date(), chunks: [], size: 0 };
      uploads.set(id, u);
      return state(id, u);
    },
    async getUpload(id) {
      const u = uploads.get(id);
      return u ? state(id, u) : undefined;
    },
    async writeUpload(id, offset, source, options: StorageCallOptions = {}) {
      const u = upload(id, "write upload");
      truncate(u, offset);
      for await (const chunk of source) {
        options.signal?.throwIfAborted();
        // Copy: the caller may reuse its buffer.
        const copy = Buffer.from(chunk);
        u.chunks.push(copy);
        u.size += copy.length;
      }
      return u.size;
    },
    async truncateUpload(id, size) {
      truncate(upload(id, "truncate upload"), size);
    },
    async readUpload(id) {
      const u = upload(id, "read upload");
      return Readable.from([...u.chunks], { objectMode: false });
    },
    async commitUpload(id, digest, options = {}) {
      const u = upload(id, "commit upload");
      const content = Buffer.concat(u.chunks, u.size);
      if (options.verified !== digest) {
        const expected = Hash.parse(digest);
        const actual = Hash.compute(content, { algorithm: expected.algorithm });
        if (!actual.equals(expected)) throw digestMismatch(digest, actual.toString(), u.size);
      }
      if (!blobs.has(digest)) blobs.set(digest, content);
      uploads.delete(id);
      return { digest, size: content.length };
    },
    async deleteUpload(id) {
      return uploads.delete(id);
    },

    async putManifest(repository, manifest: ManifestToStore) {
      const r = repo(repository);
      r.manifests.set(manifest.digest, {
        mediaType: manifest.mediaType,
        bytes: Buffer.from(manifest.bytes),
      });
      if (manifest.referrer) {
        let bySubject = r.referrers.get(manifest.referrer.subject);
        if (!bySubject) {
          bySubject = new Map();
          r.referrers.set(manifest.referrer.subject, bySubject);
        }
        bySubject.set(manifest.digest, manifest.referrer.descriptor);
      }
    },
    async getManifest(repository, digest): Promise<StoredManifest | undefined> {
      const m = repos.get(repository)?.manifests.get(digest);
      if (!m) return undefined;
      return { digest, mediaType: m.mediaType, size: m.bytes.length, bytes: m.bytes };
    },
    async deleteManifest(repository, digest) {
      const r = repos.get(repository);
      if (!r?.manifests.delete(digest)) return false;
      for (const [tag, target] of r.tags) if (target === digest) r.tags.delete(tag);
      for (const [subject, bySubject] of r.referrers) {
        bySubject.delete(digest);
        if (bySubject.size === 0) r.referrers.delete(subject);
      }
      return true;
    },

    async getTag(repository, tag) {
      return repos.get(repository)?.tags.get(tag);
    },
    async setTag(repository, tag, digest) {
      repo(repository).tags.set(tag, digest);
    },
    async deleteTag(repository, tag) {
      return repos.get(repository)?.tags.delete(tag) ?? false;
    },
    async listTags(repository) {
      return [...(repos.get(repository)?.tags.keys() ?? [])];
    },

    async listReferrers(repository, subject) {
      return [...(repos.get(repository)?.referrers.get(subject)?.values() ?? [])];
    },

    async repositoryExists(repository) {
      return exists(repository);
    },
    async listRepositories() {
      return [...repos.keys()].filter(exists);
    },
  };
}

function truncate(u: Upload, size: number): void {
  if (size > u.size) {
    throw new RegistryError(
      `cannot truncate an upload of ${u.size} bytes to ${size} bytes; only shrinking is possible`,
      { code: "HOIST_REGISTRY_INVALID_ARGUMENT", operation: "truncate upload" },
    );
  }
  if (size === u.size) return;
  const kept: Buffer[] = [];
  let total = 0;
  for (const chunk of u.chunks) {
    if (total + chunk.length <= size) {
      kept.push(chunk);
      total += chunk.length;
    } else {
      kept.push(chunk.subarray(0, size - total));
      total = size;
      break;
    }
  }
  u.chunks = kept;
  u.size = size;
}

function* chunked(content: Buffer): Generator<Buffer> {
  const step = 64 * 1024;
  for (let i = 0; i < content.length; i += step) yield content.subarray(i, i + step);
}
