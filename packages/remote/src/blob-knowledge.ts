import type { Repository } from "@hoist/name";
import type { Hash } from "@hoist/oci";

/**
 * What a Pusher has learned about where blobs live: uploaded, found by HEAD or
 * mounted. Blobs known in the destination are not checked again; blobs known in another
 * repository of the same registry are mounted from there instead of uploaded.
 */
export class BlobKnowledge {
  /** registry host → digest → repository paths */
  readonly #homes = new Map<string, Map<string, Set<string>>>();
  /** "host/path@digest" → the upload or mount putting it there right now */
  readonly #putting = new Map<string, Promise<unknown>>();

  /** The upload or mount of `digest` into `repository` that is under way, if one is. */
  inFlight(repository: Repository, digest: Hash): Promise<unknown> | undefined {
    return this.#putting.get(`${repository.registry.host}/${repository.path}@${digest}`);
  }

  /** Records `work` as the one putting `digest` into `repository` until it settles. */
  track<T>(repository: Repository, digest: Hash, work: Promise<T>): Promise<T> {
    const key = `${repository.registry.host}/${repository.path}@${digest}`;
    this.#putting.set(key, work);
    const settled = () => {
      if (this.#putting.get(key) === work) this.#putting.delete(key);
    };
    work.then(settled, settled);
    return work;
  }

  add(repository: Repository, digest: Hash): void {
    const host = repository.registry.host;
    let byDigest = this.#homes.get(host);
    if (!byDigest) {
      byDigest = new Map();
      this.#homes.set(host, byDigest);
    }
    const key = digest.toString();
    let paths = byDigest.get(key);
    if (!paths) {
      paths = new Set();
      byDigest.set(key, paths);
    }
    paths.add(repository.path);
  }

  has(repository: Repository, digest: Hash): boolean {
    return (
      this.#homes.get(repository.registry.host)?.get(digest.toString())?.has(repository.path) ??
      false
    );
  }

  /** Other repositories of `repository`'s registry known to hold `digest`. */
  elsewhere(repository: Repository, digest: Hash): string[] {
    const paths = this.#homes.get(repository.registry.host)?.get(digest.toString());
    return paths ? [...paths].filter((path) => path !== repository.path) : [];
  }

  /** Forgets `digest` in `repository` (after it was deleted, or a mount source failed). */
  forget(repository: Repository, digest: Hash): void {
    this.#homes.get(repository.registry.host)?.get(digest.toString())?.delete(repository.path);
  }
}
