import type { IncomingMessage } from "node:http";
import { baseMediaType, MediaType } from "@hoist/oci";

/** The media types listed in the request's Accept headers, parameters dropped. */
export function acceptedTypes(req: IncomingMessage): Set<string> {
  const raw = req.headersDistinct?.accept ?? (req.headers.accept ? [req.headers.accept] : []);
  const types = new Set<string>();
  for (const header of raw) {
    for (const item of header.split(",")) {
      const type = baseMediaType(item);
      if (type) types.add(type);
    }
  }
  return types;
}

/**
 * Why a stored manifest cannot be served to a client with these Accept types, or undefined
 * when it can. This follows distribution: an OCI manifest or index is served only when its type
 * is listed (wildcards do not count); Docker schema 2 types are served by digest regardless,
 * and by tag only when listed (distribution would convert them to schema 1 there, which this
 * registry does not do).
 */
export function unacceptableReason(
  stored: string,
  accepted: ReadonlySet<string>,
  byDigest: boolean,
): string | undefined {
  if (accepted.has(stored)) return undefined;
  switch (stored) {
    case MediaType.OCI_MANIFEST:
      return "OCI manifest found, but the Accept header does not list application/vnd.oci.image.manifest.v1+json";
    case MediaType.OCI_INDEX:
      return "OCI index found, but the Accept header does not list application/vnd.oci.image.index.v1+json";
    case MediaType.DOCKER_MANIFEST:
    case MediaType.DOCKER_MANIFEST_LIST:
      return byDigest
        ? undefined
        : `${stored} found, but the Accept header does not list it (schema 1 conversion is not supported)`;
    default:
      return undefined;
  }
}
