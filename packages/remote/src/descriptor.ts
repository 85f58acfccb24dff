import type { Reference } from "@hoist/name";
import {
  type BlobSource,
  createImage,
  createImageIndex,
  type Descriptor,
  type Hash,
  type Image,
  type ImageIndex,
  isConfig,
  isIndex,
  isSchema1,
  MediaType,
  type Platform,
  parseIndexManifest,
  type ReadOptions,
  selectIndexChild,
} from "@hoist/oci";
import { RemoteError } from "./errors.js";
import type { FetchedManifest, Fetcher } from "./fetcher.js";
import { trackImage, trackIndex } from "./mount.js";
import { parseSchema1, type Schema1Manifest } from "./schema1.js";

/** Anything whose manifest can be PUT as it is (go-containerregistry's Taggable). */
export interface Taggable {
  rawManifest(options?: ReadOptions): Promise<Uint8Array>;
  mediaType(options?: ReadOptions): Promise<string>;
}

/**
 * A manifest as a registry served it, uninterpreted: any media type, schema 1 included. Turn it
 * into an image or index when it is one; PUT it elsewhere as it is (it is a {@link Taggable}).
 */
export interface RemoteDescriptor extends Taggable {
  /** The reference it was fetched by. */
  readonly reference: Reference;
  /**
   * Media type (Content-Type without parameters, or sniffed), size, digest, and the manifest's
   * `artifactType` and `annotations` when it has them.
   */
  readonly descriptor: Descriptor;
  /** The manifest bytes exactly as served (a copy). */
  readonly manifest: Uint8Array;
  digest(): Promise<Hash>;
  size(): Promise<number>;
  /**
   * The image: this manifest, or for an index the child matching `platform` (default: the
   * options' platform, else linux/amd64), searched recursively through nested indexes.
   */
  image(options?: { platform?: Platform; signal?: AbortSignal }): Promise<Image>;
  /** The index; `HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE` if this is not one. */
  imageIndex(): Promise<ImageIndex>;
  /** The schema 1 manifest's blobs; `HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE` for other types. */
  schema1(): Schema1Manifest;
}

/** Deepest index nesting an image() follows before assuming something is wrong. */
const MAX_INDEX_DEPTH = 16;

/** @internal Reads images' and indexes' blobs and child manifests from a repository. */
export function blobSourceFor(fetcher: Fetcher): BlobSource {
  return {
    blob: (descriptor, options) =>
      fetcher.blob(descriptor, options?.signal ? { signal: options.signal } : {}),
    manifest: async (descriptor, options) =>
      (
        await fetcher.manifest(descriptor.digest.toString(), {
          expected: descriptor,
          ...(options?.signal ? { signal: options.signal } : {}),
        })
      ).bytes,
  };
}

/** The descriptor fields a manifest's own JSON contributes: artifactType and annotations. */
function manifestFields(bytes: Uint8Array): Pick<Descriptor, "artifactType" | "annotations"> {
  try {
    const document = JSON.parse(Buffer.from(bytes).toString("utf8")) as {
      artifactType?: unknown;
      config?: { mediaType?: unknown };
      annotations?: unknown;
    };
    const fields: Pick<Descriptor, "artifactType" | "annotations"> = {};
    const configType = document.config?.mediaType;
    const artifactType =
      typeof document.artifactType === "string"
        ? document.artifactType
        : typeof configType === "string" &&
            !isConfig(configType) &&
            configType !== MediaType.OCI_EMPTY
          ? configType
          : undefined;
    if (artifactType) fields.artifactType = artifactType;
    const annotations = document.annotations;
    if (
      annotations &&
      typeof annotations === "object" &&
      !Array.isArray(annotations) &&
      Object.values(annotations).every((value) => typeof value === "string")
    ) {
      fields.annotations = { ...(annotations as Record<string, string>) };
    }
    return fields;
  } catch {
    return {};
  }
}

function unexpected(reference: string, mediaType: string, wanted: string, hint: string) {
  return new RemoteError(`${reference} is a ${mediaType}, not ${wanted}; ${hint}`, {
    code: "HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE",
    operation: "read manifest",
    reference,
  });
}

/** @internal What image() resolves to, shared by Puller.image and RemoteDescriptor.image. */
export async function resolveImage(
  fetcher: Fetcher,
  fetched: FetchedManifest,
  reference: string,
  platform: Platform,
  options: { maxManifestBytes: number; signal: AbortSignal | undefined },
): Promise<Image> {
  let current = fetched;
  let name = reference;
  for (let depth = 0; isIndex(current.mediaType); depth++) {
    if (depth >= MAX_INDEX_DEPTH) {
      throw new RemoteError(`${reference}: indexes nested more than ${MAX_INDEX_DEPTH} deep`, {
        code: "HOIST_REMOTE_BAD_RESPONSE",
        operation: "read index",
        reference,
      });
    }
    const index = parseIndexManifest(current.bytes, { maxBytes: options.maxManifestBytes });
    const child = selectIndexChild(index.manifests, platform);
    if (!child) {
      const offered = index.manifests
        .map((entry) =>
          entry.platform ? `${entry.platform.os}/${entry.platform.architecture}` : "(none)",
        )
        .join(", ");
      throw new RemoteError(
        `${name} has no image for platform ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ""}; it offers ${offered || "nothing"}. Pass another platform, or read it with index()`,
        { code: "HOIST_REMOTE_NO_MATCHING_PLATFORM", operation: "read image", reference: name },
      );
    }
    name = `${fetcher.repository.name}@${child.digest}`;
    current = await fetcher.manifest(child.digest.toString(), {
      expected: child,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  if (isSchema1(current.mediaType)) {
    throw unexpected(
      name,
      current.mediaType,
      "an image hoist can read",
      "Docker schema 1 is not supported; get() returns its raw manifest and schema1() its blobs",
    );
  }
  const image = createImage({
    rawManifest: current.bytes,
    mediaType: current.mediaType,
    source: blobSourceFor(fetcher),
    maxManifestBytes: options.maxManifestBytes,
  });
  return trackImage(image, fetcher.repository);
}

/** @internal */
export function createRemoteDescriptor(options: {
  fetcher: Fetcher;
  reference: Reference;
  fetched: FetchedManifest;
  platform: Platform;
  maxManifestBytes: number;
  signal: AbortSignal | undefined;
}): RemoteDescriptor {
  const { fetcher, reference, fetched } = options;
  const bytes = Uint8Array.from(fetched.bytes);
  const descriptor: Descriptor = {
    mediaType: fetched.mediaType,
    size: fetched.size,
    digest: fetched.digest,
    ...manifestFields(bytes),
  };
  const name = reference.name;
  return {
    reference,
    get descriptor() {
      return {
        ...descriptor,
        ...(descriptor.annotations ? { annotations: { ...descriptor.annotations } } : {}),
      };
    },
    get manifest() {
      return Uint8Array.from(bytes);
    },
    rawManifest: async () => Uint8Array.from(bytes),
    mediaType: async () => fetched.mediaType,
    digest: async () => fetched.digest,
    size: async () => fetched.size,
    image: (imageOptions = {}) =>
      resolveImage(fetcher, fetched, name, imageOptions.platform ?? options.platform, {
        maxManifestBytes: options.maxManifestBytes,
        signal: imageOptions.signal ?? options.signal,
      }),
    imageIndex: async () => {
      if (!isIndex(fetched.mediaType)) {
        throw unexpected(name, fetched.mediaType, "an index", "read it with image()");
      }
      const index = createImageIndex({
        rawManifest: bytes,
        mediaType: fetched.mediaType,
        source: blobSourceFor(fetcher),
        maxManifestBytes: options.maxManifestBytes,
      });
      return trackIndex(index, fetcher.repository);
    },
    schema1: () => {
      if (!isSchema1(fetched.mediaType)) {
        throw unexpected(name, fetched.mediaType, "a schema 1 manifest", "read it with image()");
      }
      return parseSchema1(bytes, fetched.mediaType, fetched.digest, name);
    },
  };
}
