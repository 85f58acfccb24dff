import type { Readable } from "node:stream";
import type { Repository } from "@hoist/name";
import {
  baseMediaType,
  type Descriptor,
  Hash,
  isSchema1,
  isValidMediaType,
  MediaType,
  sniffManifestMediaType,
  verifyBytes,
} from "@hoist/oci";
import type { Session, TransportResponse } from "@hoist/transport";
import { contentLength, resumableBody } from "./blob-stream.js";
import type { RemoteClient } from "./client.js";
import { RemoteError } from "./errors.js";
import { schema1PayloadDigest } from "./schema1.js";
import { translateError, translating } from "./translate-error.js";

/** Every manifest type hoist reads, so registries never have to convert (or refuse) one. */
export const MANIFEST_ACCEPT = [
  MediaType.OCI_MANIFEST,
  MediaType.OCI_INDEX,
  MediaType.DOCKER_MANIFEST,
  MediaType.DOCKER_MANIFEST_LIST,
  MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED,
  MediaType.DOCKER_MANIFEST_SCHEMA1,
].join(", ");

export const INDEX_ACCEPT = [MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST].join(", ");

/** Content-Types that say nothing about which manifest this is. */
const GENERIC_TYPES = new Set([
  "",
  "application/json",
  "text/plain",
  "application/octet-stream",
  "binary/octet-stream",
]);

/**
 * A manifest's media type: the Content-Type without parameters when it is specific, else the
 * manifest's own `mediaType`, else a type sniffed from its fields (registries serve manifests
 * without `mediaType` as `application/json`).
 */
export function manifestMediaType(contentType: string | null, bytes: Uint8Array): string {
  const base = contentType ? baseMediaType(contentType) : "";
  if (!GENERIC_TYPES.has(base) && isValidMediaType(base)) return base;
  return sniffManifestMediaType(bytes) ?? MediaType.OCI_MANIFEST;
}

/** A manifest as the registry served it, verified. */
export interface FetchedManifest {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
  readonly digest: Hash;
  readonly size: number;
}

/** What a HEAD on a manifest told. */
export interface ManifestHead {
  readonly mediaType: string | undefined;
  readonly digest: Hash | undefined;
  readonly size: number | undefined;
}

export interface FetcherOptions {
  maxManifestBytes: number;
  /** The session's access; a Pusher reads with its push session. Default "pull". */
  access?: "pull" | "push";
  /** Applies to every request, including lazy ones made long after the call that built this. */
  signal: AbortSignal | undefined;
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  // A caller usually passes the signal it built this with: nothing to combine then.
  if (!a || a === b) return b;
  if (!b) return a;
  return AbortSignal.any([a, b]);
}

function headerDigest(response: TransportResponse): Hash | undefined {
  const value = response.headers.get("docker-content-digest")?.trim();
  return value && Hash.isValid(value) ? Hash.parse(value) : undefined;
}

/**
 * The read side of the wire protocol for one repository (go-containerregistry's
 * fetcher): manifests capped and verified, blobs streamed and resumable, HEAD checks.
 */
export class Fetcher {
  readonly repository: Repository;
  readonly client: RemoteClient;
  readonly options: FetcherOptions;

  constructor(client: RemoteClient, repository: Repository, options: FetcherOptions) {
    this.client = client;
    this.repository = repository;
    this.options = options;
  }

  signal(call?: AbortSignal): AbortSignal | undefined {
    return combine(this.options.signal, call);
  }

  session(signal: AbortSignal | undefined): Promise<Session> {
    return this.client.session(this.repository, this.options.access ?? "pull", signal);
  }

  #path(kind: "manifests" | "blobs", identifier: string): string {
    return `/v2/${this.repository.path}/${kind}/${identifier}`;
  }

  #name(identifier: string): string {
    return identifier.includes(":")
      ? `${this.repository.name}@${identifier}`
      : `${this.repository.name}:${identifier}`;
  }

  /**
   * GETs a manifest by tag or digest. Its size is capped before reading; by digest its bytes
   * must hash to that digest; by tag they must hash to a well-formed Docker-Content-Digest.
   * Signed schema 1 manifests are checked against the digest of their signed payload.
   */
  async manifest(
    identifier: string,
    options: { accept?: string; signal?: AbortSignal; expected?: Descriptor } = {},
  ): Promise<FetchedManifest> {
    const signal = this.signal(options.signal);
    const reference = this.#name(identifier);
    const context = {
      operation: "get manifest",
      reference,
      document: "manifest" as const,
      signal,
    };
    return translating(context, async () => {
      const session = await this.session(signal);
      const response = await session.request({
        method: "GET",
        path: this.#path("manifests", identifier),
        headers: { accept: options.accept ?? MANIFEST_ACCEPT },
        expectStatus: [200],
        ...(signal ? { signal } : {}),
      });
      const max = this.options.maxManifestBytes;
      const announced = contentLength(response);
      if (announced !== undefined && announced > max) {
        response.body.destroy();
        throw tooLarge(reference, announced, max);
      }
      let bytes: Uint8Array;
      try {
        bytes = await response.bytes({ limit: max });
      } catch (error) {
        const translated = translateError(error, context);
        if (RemoteError.is(translated) && translated.code === "HOIST_REMOTE_MANIFEST_TOO_LARGE") {
          throw tooLarge(reference, undefined, max, error);
        }
        throw translated;
      }
      const mediaType = manifestMediaType(response.headers.get("content-type"), bytes);
      const digest = verifiedDigest(
        bytes,
        mediaType,
        identifier,
        headerDigest(response),
        reference,
      );
      if (options.expected) verifyBytes(bytes, options.expected, "get manifest");
      return { bytes, mediaType, digest, size: bytes.byteLength };
    });
  }

  /** HEADs a manifest. Throws RemoteError on anything but 2xx. */
  async headManifest(
    identifier: string,
    options: { accept?: string; signal?: AbortSignal } = {},
  ): Promise<ManifestHead> {
    const signal = this.signal(options.signal);
    return translating(
      { operation: "head manifest", reference: this.#name(identifier), signal },
      async () => {
        const session = await this.session(signal);
        const response = await session.request({
          method: "HEAD",
          path: this.#path("manifests", identifier),
          headers: { accept: options.accept ?? MANIFEST_ACCEPT },
          ...(signal ? { signal } : {}),
        });
        await response.discard();
        const type = response.headers.get("content-type");
        return {
          mediaType: type ? baseMediaType(type) : undefined,
          digest: headerDigest(response),
          size: contentLength(response),
        };
      },
    );
  }

  /**
   * HEADs a blob: undefined when the repository does not have it (404), else its size when the
   * registry said it (Content-Length).
   */
  async headBlob(
    digest: Hash,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ size: number | undefined } | undefined> {
    const signal = this.signal(options.signal);
    return translating(
      { operation: "head blob", reference: this.#name(digest.toString()), signal },
      async () => {
        const session = await this.session(signal);
        const response = await session.request({
          method: "HEAD",
          path: this.#path("blobs", digest.toString()),
          expectStatus: [200, 404],
          ...(signal ? { signal } : {}),
        });
        await response.discard();
        return response.status === 200 ? { size: contentLength(response) } : undefined;
      },
    );
  }

  /**
   * A blob's bytes as stored, resuming after dropped connections. Not verified here: callers
   * pipe it through a verifier (`@hoist/oci` does for layers of images it builds). A blob the
   * registry lacks is fetched from the descriptor's `urls` (foreign layers), in order.
   */
  async blob(
    descriptor: Pick<Descriptor, "digest" | "urls"> & { size?: number | undefined },
    options: { signal?: AbortSignal } = {},
  ): Promise<Readable> {
    const signal = this.signal(options.signal);
    const reference = this.#name(descriptor.digest.toString());
    const context = { operation: "download blob", reference, signal };
    const session = await this.session(signal);
    const target = { path: this.#path("blobs", descriptor.digest.toString()) };
    const opener =
      (where: { path: string } | { url: string }) =>
      (offset: number): Promise<TransportResponse> =>
        translating(context, () =>
          session.request({
            method: "GET",
            ...where,
            headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
            expectStatus: offset > 0 ? [200, 206] : [200],
            ...(signal ? { signal } : {}),
          }),
        );
    let open = opener(target);
    let first: TransportResponse;
    try {
      first = await open(0);
    } catch (error) {
      const urls = descriptor.urls ?? [];
      if (!RemoteError.is(error) || error.code !== "HOIST_REMOTE_NOT_FOUND" || urls.length === 0) {
        throw error;
      }
      // A foreign layer: the registry was asked first (it may hold a copy); now its URLs.
      let last: unknown = error;
      let found: TransportResponse | undefined;
      for (const url of urls) {
        open = opener({ url });
        try {
          found = await open(0);
          break;
        } catch (failure) {
          last = failure;
        }
      }
      if (!found) throw last;
      first = found;
    }
    return resumableBody({
      first,
      open,
      size: descriptor.size,
      signal,
      operation: "download blob",
      reference,
    });
  }
}

function tooLarge(
  reference: string,
  announced: number | undefined,
  max: number,
  cause?: unknown,
): RemoteError {
  return new RemoteError(
    `get manifest ${reference}: the manifest is ${announced === undefined ? "over" : `${announced} bytes,`} the ${max}-byte limit; raise maxManifestBytes if the registry is trusted`,
    { code: "HOIST_REMOTE_MANIFEST_TOO_LARGE", operation: "get manifest", reference, cause },
  );
}

/** The manifest's digest, checked against what was asked for or what the registry announced. */
function verifiedDigest(
  bytes: Uint8Array,
  mediaType: string,
  identifier: string,
  announced: Hash | undefined,
  reference: string,
): Hash {
  const requested = Hash.isValid(identifier) ? Hash.parse(identifier) : undefined;
  const algorithm = requested?.algorithm ?? announced?.algorithm ?? "sha256";
  const computed = Hash.compute(bytes, { algorithm });
  // Signed schema 1: registries name it by the digest of its payload, not of its bytes.
  const payload = isSchema1(mediaType) ? schema1PayloadDigest(bytes) : undefined;
  const matches = (expected: Hash) =>
    expected.equals(Hash.compute(bytes, { algorithm: expected.algorithm })) ||
    (payload !== undefined && expected.equals(payload));
  const mismatch = (expected: Hash, source: string) =>
    new RemoteError(
      `get manifest ${reference}: the manifest's bytes hash to ${payload ?? computed}, but ${source} is ${expected}; the registry (or something between) served other content`,
      { code: "HOIST_REMOTE_DIGEST_MISMATCH", operation: "get manifest", reference },
    );
  if (requested && !matches(requested)) throw mismatch(requested, "the requested digest");
  if (!requested && announced && !matches(announced)) {
    throw mismatch(announced, "the registry's Docker-Content-Digest");
  }
  return requested ?? payload ?? computed;
}
