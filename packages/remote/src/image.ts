import {
  type BlobSource,
  createImage,
  type Image,
  isIndex,
  isSchema1,
  type Platform,
  parseIndexManifest,
  selectIndexChild,
} from "@hoist/oci";
import { RemoteError } from "./errors.js";
import type { FetchedManifest, Fetcher } from "./fetcher.js";
import { trackImage } from "./mount.js";

// go-containerregistry's image.go: a registry's image over its manifest, whose config and
// layers are read on demand through the repository, verified by @hoist/oci as they stream.

/** Deepest index nesting an image() follows before assuming something is wrong. */
const MAX_INDEX_DEPTH = 16;

/** Reads images' and indexes' blobs and child manifests from a repository. */
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

export function unexpectedMediaType(
  reference: string,
  mediaType: string,
  wanted: string,
  hint: string,
) {
  return new RemoteError(`${reference} is a ${mediaType}, not ${wanted}; ${hint}`, {
    code: "HOIST_REMOTE_UNEXPECTED_MEDIA_TYPE",
    operation: "read manifest",
    reference,
  });
}

/** What image() resolves to, shared by Puller.image and RemoteDescriptor.image. */
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
    throw unexpectedMediaType(
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
