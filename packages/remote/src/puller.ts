import type { Repository } from "@hoist/name";
import {
  type Descriptor,
  Hash,
  type Image,
  type ImageIndex,
  type IndexManifest,
  type Layer,
} from "@hoist/oci";
import { type CatalogPage, catalogPage, listCatalog } from "./catalog.js";
import { RemoteClient } from "./client.js";
import { createRemoteDescriptor, type RemoteDescriptor } from "./descriptor.js";
import { RemoteError } from "./errors.js";
import { Fetcher } from "./fetcher.js";
import { resolveImage } from "./image.js";
import { resolveIndex } from "./image-index.js";
import { remoteLayer } from "./layer.js";
import { listTags } from "./list.js";
import {
  mergeOptions,
  platformOf,
  type RemoteOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.js";
import {
  type ReferenceInput,
  type RegistryInput,
  type RepositoryInput,
  toDigest,
  toReference,
  toRegistry,
  toRepository,
} from "./references.js";
import { listReferrers } from "./referrers.js";

/** Options of `referrers()`: the common options plus an artifact type filter. */
export interface ReferrersOptions extends RemoteOptions {
  /** Only referrers of this artifact type. */
  artifactType?: string;
}

/** Options of `catalogPage()`. */
export interface CatalogPageOptions extends RemoteOptions {
  /** The last repository of the previous page (exclusive). */
  last?: string;
}

/**
 * Reads from registries, reusing connections, tokens and sessions across calls: reading many
 * images costs one handshake per registry and repository (go-containerregistry's Puller).
 */
export type { CatalogPage } from "./catalog.js";

export interface Puller {
  /** The manifest as served, any media type (schema 1 too), verified, uninterpreted. */
  get(reference: ReferenceInput, options?: RemoteOptions): Promise<RemoteDescriptor>;
  /** The manifest's descriptor from a HEAD; a GET when HEAD is refused or gives no digest. */
  head(reference: ReferenceInput, options?: RemoteOptions): Promise<Descriptor>;
  /** An image; an index resolves to its child for `platform` (default linux/amd64). */
  image(reference: ReferenceInput, options?: RemoteOptions): Promise<Image>;
  /** An index (or Docker manifest list). */
  index(reference: ReferenceInput, options?: RemoteOptions): Promise<ImageIndex>;
  /** A blob by digest reference (`repo@sha256:…`), as a layer. */
  layer(reference: ReferenceInput, options?: RemoteOptions): Promise<Layer>;
  /** Every tag of a repository, following pagination. */
  list(repository: RepositoryInput, options?: RemoteOptions): Promise<string[]>;
  /** Every repository of a registry, following pagination. */
  catalog(registry: RegistryInput, options?: RemoteOptions): Promise<string[]>;
  /** One page of a registry's repositories. */
  catalogPage(registry: RegistryInput, options?: CatalogPageOptions): Promise<CatalogPage>;
  /** The manifests whose `subject` is this digest: an OCI index of their descriptors. */
  referrers(reference: ReferenceInput, options?: ReferrersOptions): Promise<IndexManifest>;
  /** Closes connections (unless the transport was given). Lazy images stop working. */
  close(): Promise<void>;
}

/** The Puller implementation over a client, shared with Pushers for copies. */
export class RemotePuller implements Puller {
  readonly #client: RemoteClient;
  readonly #defaults: ResolvedOptions;
  readonly #owned: boolean;

  constructor(client: RemoteClient, defaults: ResolvedOptions, owned: boolean) {
    this.#client = client;
    this.#defaults = defaults;
    this.#owned = owned;
  }

  #options(call: RemoteOptions | undefined): ResolvedOptions {
    return mergeOptions(this.#defaults, call);
  }

  #fetcher(repository: Repository, options: ResolvedOptions): Fetcher {
    return new Fetcher(this.#client, repository, {
      maxManifestBytes: options.maxManifestBytes,
      signal: options.signal,
    });
  }

  async get(reference: ReferenceInput, call?: RemoteOptions): Promise<RemoteDescriptor> {
    const options = this.#options(call);
    const ref = toReference(reference, "get manifest");
    const fetcher = this.#fetcher(ref.repository, options);
    const fetched = await fetcher.manifest(ref.identifier);
    return createRemoteDescriptor({
      fetcher,
      reference: ref,
      fetched,
      platform: platformOf(options),
      maxManifestBytes: options.maxManifestBytes,
      signal: options.signal,
    });
  }

  async head(reference: ReferenceInput, call?: RemoteOptions): Promise<Descriptor> {
    const options = this.#options(call);
    const ref = toReference(reference, "head manifest");
    const fetcher = this.#fetcher(ref.repository, options);
    const requested = ref.kind === "digest" ? Hash.parse(ref.digest) : undefined;
    try {
      const head = await fetcher.headManifest(ref.identifier);
      const digest = head.digest ?? requested;
      if (
        digest &&
        head.mediaType &&
        head.size !== undefined &&
        (!requested || !head.digest || head.digest.equals(requested))
      ) {
        return { mediaType: head.mediaType, size: head.size, digest };
      }
    } catch (error) {
      // HEAD refused or unreliable (405, or a bare 404 from distribution under token auth):
      // GET tells, and its error body says more. Refused credentials stay refused.
      if (
        !RemoteError.is(error) ||
        error.code === "HOIST_REMOTE_UNAUTHORIZED" ||
        error.code === "HOIST_REMOTE_ABORTED"
      ) {
        throw error;
      }
    }
    const fetched = await fetcher.manifest(ref.identifier);
    return { mediaType: fetched.mediaType, size: fetched.size, digest: fetched.digest };
  }

  async image(reference: ReferenceInput, call?: RemoteOptions): Promise<Image> {
    const options = this.#options(call);
    const ref = toReference(reference, "read image");
    const fetcher = this.#fetcher(ref.repository, options);
    const fetched = await fetcher.manifest(ref.identifier);
    return resolveImage(fetcher, fetched, ref.name, platformOf(options), {
      maxManifestBytes: options.maxManifestBytes,
      signal: options.signal,
    });
  }

  async index(reference: ReferenceInput, call?: RemoteOptions): Promise<ImageIndex> {
    const options = this.#options(call);
    const ref = toReference(reference, "read index");
    const fetcher = this.#fetcher(ref.repository, options);
    const fetched = await fetcher.manifest(ref.identifier);
    return resolveIndex(fetcher, fetched, ref.name, options.maxManifestBytes);
  }

  async layer(reference: ReferenceInput, call?: RemoteOptions): Promise<Layer> {
    const options = this.#options(call);
    const ref = toDigest(reference, "read layer");
    return remoteLayer(this.#fetcher(ref.repository, options), Hash.parse(ref.digest));
  }

  async list(repository: RepositoryInput, call?: RemoteOptions): Promise<string[]> {
    return listTags(this.#client, toRepository(repository, "list tags"), this.#options(call));
  }

  async catalog(registry: RegistryInput, call?: RemoteOptions): Promise<string[]> {
    return listCatalog(
      this.#client,
      toRegistry(registry, "list repositories"),
      this.#options(call),
    );
  }

  async catalogPage(registry: RegistryInput, call?: CatalogPageOptions): Promise<CatalogPage> {
    const { last, ...rest } = call ?? {};
    const target = toRegistry(registry, "list repositories");
    return catalogPage(this.#client, target, last, this.#options(rest));
  }

  async referrers(reference: ReferenceInput, call?: ReferrersOptions): Promise<IndexManifest> {
    const { artifactType, ...rest } = call ?? {};
    const options = this.#options(rest);
    const ref = toDigest(reference, "list referrers");
    return listReferrers(this.#fetcher(ref.repository, options), Hash.parse(ref.digest), {
      artifactType,
      fallback: options.referrersTagFallback,
      jobs: options.jobs,
      signal: options.signal,
      maxBytes: options.maxManifestBytes,
    });
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#client.close();
  }
}

/** A Puller with its own transport (or the one in `options.transport`). */
export function createPuller(options?: RemoteOptions): Puller {
  const resolved = resolveOptions(options);
  return new RemotePuller(new RemoteClient(resolved), resolved, true);
}
