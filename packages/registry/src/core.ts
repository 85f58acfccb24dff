import { createHash, type Hash as NodeHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { HashAlgorithm } from "@hoist/oci";
import type { Grant } from "./auth.js";
import type { KeyedMutex } from "./keyed-mutex.js";
import type { RegistryStorage } from "./storage/types.js";

/** Size limits, resolved to numbers. */
export interface ResolvedLimits {
  manifestBytes: number;
  blobBytes: number;
  maxPageSize: number;
  defaultCatalogPageSize: number;
}

/** What the registry checks on manifest push, resolved. */
export interface ResolvedValidation {
  blobReferences: boolean;
  manifestReferences: boolean;
}

/** State shared by the handlers of one registry. */
export interface RegistryCore {
  storage: RegistryStorage;
  limits: ResolvedLimits;
  validation: ResolvedValidation;
  referrers: boolean;
  deletes: boolean;
  mount: boolean;
  /** Serialises the requests that touch one upload session. */
  uploadLocks: KeyedMutex;
  /** Serialises manifest and tag changes per repository. */
  repositoryLocks: KeyedMutex;
  /** Digest state of uploads whose bytes streamed through this process, so commit needs no re-read. */
  runningHashes: Map<string, RunningHash>;
}

/** One request being handled. */
export interface RequestContext {
  req: IncomingMessage;
  url: URL;
  method: string;
  signal: AbortSignal;
  grant: Grant;
}

/** A digest computed incrementally as upload chunks arrive. */
export class RunningHash {
  readonly algorithm: HashAlgorithm;
  #hasher: NodeHash;
  size: number;

  constructor(algorithm: HashAlgorithm, hasher?: NodeHash, size = 0) {
    this.algorithm = algorithm;
    this.#hasher = hasher ?? createHash(algorithm);
    this.size = size;
  }

  update(chunk: Uint8Array): void {
    this.#hasher.update(chunk);
    this.size += chunk.length;
  }

  /** An independent copy, to restore if the bytes hashed next are rolled back. */
  snapshot(): RunningHash {
    return new RunningHash(this.algorithm, this.#hasher.copy(), this.size);
  }

  digest(): string {
    return `${this.algorithm}:${this.#hasher.copy().digest("hex")}`;
  }
}
