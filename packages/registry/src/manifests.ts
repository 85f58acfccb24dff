import {
  baseMediaType,
  type Descriptor,
  Hash,
  type IndexManifest,
  isSchema1,
  type Manifest,
  MediaType,
  parseIndexManifest,
  parseManifest,
  sniffManifestMediaType,
} from "@hoist/oci";
import { acceptedTypes, unacceptableReason } from "./accept.js";
import type { RegistryCore, RequestContext } from "./core.js";
import { digestParam } from "./digests.js";
import { apiError, DistributionError, type DistributionErrorEntry } from "./distribution-error.js";
import { quote } from "./errors.js";
import { isValidTag } from "./names.js";
import { readSmallBody } from "./request-body.js";
import { bytesResponse, emptyResponse, type RegistryResponse } from "./response.js";
import type { ReferrerDescriptor } from "./storage/types.js";

type Reference = { kind: "digest"; digest: Hash } | { kind: "tag"; tag: string };

/** A manifest path's `<reference>`: a digest when it has a ":", otherwise a tag. */
function parseReference(reference: string, forPut: boolean): Reference {
  if (reference.includes(":"))
    return { kind: "digest", digest: digestParam(reference, "manifest digest") };
  if (isValidTag(reference)) return { kind: "tag", tag: reference };
  const message = `${quote(reference)} is neither a digest nor a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})`;
  // Nothing can be stored under an invalid tag, so reads simply find nothing.
  throw forPut
    ? apiError(400, "MANIFEST_INVALID", message)
    : apiError(404, "MANIFEST_UNKNOWN", message);
}

function manifestUnknown(reference: Reference, message?: string): DistributionError {
  const detail =
    reference.kind === "tag" ? { Tag: reference.tag } : { Digest: reference.digest.toString() };
  return apiError(404, "MANIFEST_UNKNOWN", message, detail);
}

/** GET and HEAD /v2/<name>/manifests/<reference>, negotiated on Accept. */
export async function getManifest(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  referenceText: string,
): Promise<RegistryResponse> {
  const reference = parseReference(referenceText, false);
  const digest =
    reference.kind === "digest"
      ? reference.digest.toString()
      : await core.storage.getTag(repository, reference.tag, { signal: ctx.signal });
  const manifest = digest
    ? await core.storage.getManifest(repository, digest, { signal: ctx.signal })
    : undefined;
  if (!manifest) throw manifestUnknown(reference);
  const reason = unacceptableReason(
    manifest.mediaType,
    acceptedTypes(ctx.req),
    reference.kind === "digest",
  );
  if (reason) throw manifestUnknown(reference, reason);
  return bytesResponse(200, manifest.bytes, {
    "Content-Type": manifest.mediaType,
    "Docker-Content-Digest": manifest.digest,
    ETag: `"${manifest.digest}"`,
  });
}

const IMAGE_TYPES: readonly string[] = [MediaType.OCI_MANIFEST, MediaType.DOCKER_MANIFEST];
const INDEX_TYPES: readonly string[] = [MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST_LIST];
// Content types that say nothing about the manifest: the body decides then.
const GENERIC_TYPES: readonly string[] = ["", "application/json", "application/octet-stream"];

function invalid(message: string, detail?: unknown): DistributionError {
  return apiError(400, "MANIFEST_INVALID", message, detail);
}

/**
 * The manifest's media type: the Content-Type, which must agree with the body's `mediaType`
 * when that is present. A generic or missing Content-Type defers to the body, whose type is
 * sniffed from its shape when it declares none.
 */
function mediaTypeOf(contentType: string | undefined, bytes: Buffer, maxBytes: number): string {
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw invalid(`the manifest is not JSON: ${(error as Error).message}`);
  }
  const declared = (document as { mediaType?: unknown } | null)?.mediaType;
  const header = baseMediaType(contentType ?? "");
  const mediaType = GENERIC_TYPES.includes(header)
    ? sniffManifestMediaType(bytes, { maxBytes })
    : header;
  if (mediaType === undefined) {
    throw invalid(
      "the manifest has no media type: send a Content-Type header or a mediaType field",
    );
  }
  if (typeof declared === "string" && declared !== mediaType) {
    throw invalid(
      `Content-Type ${quote(mediaType)} does not match the manifest's mediaType ${quote(declared)}`,
    );
  }
  if (isSchema1(mediaType)) {
    throw invalid("Docker schema 1 manifests are not supported; push a schema 2 or OCI manifest");
  }
  if (!IMAGE_TYPES.includes(mediaType) && !INDEX_TYPES.includes(mediaType)) {
    throw invalid(
      `${quote(mediaType)} is not a manifest type this registry stores; use an OCI or Docker schema 2 manifest or index`,
    );
  }
  return mediaType;
}

function parse(mediaType: string, bytes: Buffer, maxBytes: number): Manifest | IndexManifest {
  try {
    return IMAGE_TYPES.includes(mediaType)
      ? parseManifest(bytes, { maxBytes })
      : parseIndexManifest(bytes, { maxBytes });
  } catch (error) {
    throw invalid((error as Error).message, { mediaType });
  }
}

/** MANIFEST_BLOB_UNKNOWN (and size) errors for the descriptors a manifest depends on. */
async function missingReferences(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  manifest: Manifest | IndexManifest,
): Promise<DistributionErrorEntry[]> {
  const problems: DistributionErrorEntry[] = [];
  const check = async (descriptor: Descriptor, kind: "blob" | "manifest", where: string) => {
    const digest = descriptor.digest.toString();
    const signal = ctx.signal;
    const size =
      kind === "blob"
        ? (await core.storage.isBlobLinked(repository, digest, { signal }))
          ? (await core.storage.statBlob(digest, { signal }))?.size
          : undefined
        : (await core.storage.getManifest(repository, digest, { signal }))?.size;
    if (size === undefined) {
      problems.push({
        code: "MANIFEST_BLOB_UNKNOWN",
        message: `${where} ${digest} is not in repository ${quote(repository)}; push it first`,
        detail: digest,
      });
    } else if (size !== descriptor.size) {
      problems.push({
        code: "MANIFEST_INVALID",
        message: `${where} ${digest} has ${size} bytes, but the descriptor says ${descriptor.size}`,
        detail: { digest, size, declared: descriptor.size },
      });
    }
  };
  if ("config" in manifest) {
    if (core.validation.blobReferences) {
      await check(manifest.config, "blob", "config");
      for (const [i, layer] of manifest.layers.entries()) {
        // Foreign layers live at their URLs, not in registries.
        if (layer.urls && layer.urls.length > 0) continue;
        await check(layer, "blob", `layers[${i}]`);
      }
    }
  } else if (core.validation.manifestReferences) {
    for (const [i, child] of manifest.manifests.entries())
      await check(child, "manifest", `manifests[${i}]`);
  }
  return problems;
}

function referrerOf(
  mediaType: string,
  digest: string,
  size: number,
  manifest: Manifest | IndexManifest,
): ReferrerDescriptor {
  const descriptor: ReferrerDescriptor = { mediaType, digest, size };
  // The spec: an image without artifactType is listed with its config's media type.
  const artifactType =
    manifest.artifactType ?? ("config" in manifest ? manifest.config.mediaType : undefined);
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (manifest.annotations && Object.keys(manifest.annotations).length > 0) {
    descriptor.annotations = manifest.annotations;
  }
  return descriptor;
}

/** PUT /v2/<name>/manifests/<reference>: validated, then stored and tagged. */
export async function putManifest(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  referenceText: string,
): Promise<RegistryResponse> {
  const reference = parseReference(referenceText, true);
  const extraTags = ctx.url.searchParams.getAll("tag");
  for (const tag of extraTags) {
    if (!isValidTag(tag)) throw invalid(`tag=${quote(tag)} is not a valid tag`);
  }
  const bytes = await readSmallBody(ctx.req, core.limits.manifestBytes);
  const maxBytes = core.limits.manifestBytes;
  const mediaType = mediaTypeOf(ctx.req.headers["content-type"], bytes, maxBytes);
  const manifest = parse(mediaType, bytes, maxBytes);
  const algorithm = reference.kind === "digest" ? reference.digest.algorithm : "sha256";
  const digest = Hash.compute(bytes, { algorithm }).toString();
  if (reference.kind === "digest" && digest !== reference.digest.toString()) {
    throw apiError(
      400,
      "DIGEST_INVALID",
      `the manifest's digest is ${digest}, not ${reference.digest.toString()} as in the URL`,
      { Digest: reference.digest.toString() },
    );
  }
  return core.repositoryLocks.run(repository, async () => {
    const problems = await missingReferences(core, ctx, repository, manifest);
    if (problems.length > 0) throw new DistributionError(400, problems);
    const subject = core.referrers ? manifest.subject?.digest.toString() : undefined;
    await core.storage.putManifest(
      repository,
      {
        digest,
        mediaType,
        bytes,
        referrer: subject
          ? { subject, descriptor: referrerOf(mediaType, digest, bytes.length, manifest) }
          : undefined,
      },
      { signal: ctx.signal },
    );
    const tags = reference.kind === "tag" ? [reference.tag, ...extraTags] : extraTags;
    for (const tag of tags)
      await core.storage.setTag(repository, tag, digest, { signal: ctx.signal });
    const headers: Record<string, string> = {
      Location: `/v2/${repository}/manifests/${digest}`,
      "Docker-Content-Digest": digest,
    };
    if (subject) headers["OCI-Subject"] = subject;
    if (extraTags.length > 0) headers["OCI-Tag"] = extraTags.join(", ");
    return emptyResponse(201, headers);
  });
}

/** DELETE /v2/<name>/manifests/<reference>: a digest removes the manifest and its tags; a tag only itself. */
export async function deleteManifest(
  core: RegistryCore,
  ctx: RequestContext,
  repository: string,
  referenceText: string,
): Promise<RegistryResponse> {
  if (!core.deletes) throw apiError(405, "UNSUPPORTED", "deleting is disabled on this registry");
  const reference = parseReference(referenceText, false);
  return core.repositoryLocks.run(repository, async () => {
    const removed =
      reference.kind === "digest"
        ? await core.storage.deleteManifest(repository, reference.digest.toString(), {
            signal: ctx.signal,
          })
        : await core.storage.deleteTag(repository, reference.tag, { signal: ctx.signal });
    if (!removed) throw manifestUnknown(reference);
    return emptyResponse(202);
  });
}
