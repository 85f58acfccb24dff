import type { Reference } from "@hoist/name";
import {
  type Descriptor,
  type Hash,
  type Image,
  type ImageIndex,
  isConfig,
  isSchema1,
  MediaType,
  type Platform,
  type ReadOptions,
} from "@hoist/oci";
import type { FetchedManifest, Fetcher } from "./fetcher.js";
import { resolveImage, unexpectedMediaType } from "./image.js";
import { resolveIndex } from "./image-index.js";
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
    imageIndex: async () => resolveIndex(fetcher, fetched, name, options.maxManifestBytes),
    schema1: () => {
      if (!isSchema1(fetched.mediaType)) {
        throw unexpectedMediaType(
          name,
          fetched.mediaType,
          "a schema 1 manifest",
          "read it with image()",
        );
      }
      return parseSchema1(bytes, fetched.mediaType, fetched.digest, name);
    },
  };
}
