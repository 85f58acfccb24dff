import { DigestSchema, Hash, MediaType } from "@hoist/oci";
import { z } from "zod";
import { RemoteError } from "./errors.js";

// Docker schema 1 is long deprecated, but registries still hold such images and copying them
// must keep working (as crane copy does). Nothing here interprets them beyond what a copy needs:
// the blobs they name and the digest a registry gives them.

/** A Docker schema 1 manifest, kept as bytes, with the blobs a copy must carry along. */
export interface Schema1Manifest {
  /** The schema 1 media type (signed or not). */
  readonly mediaType: string;
  /** The registry's digest: for signed manifests, of the payload without its signatures. */
  readonly digest: Hash;
  /** The manifest exactly as served. */
  readonly rawManifest: Uint8Array;
  /** Blob digests, base layer first (the reverse of `fsLayers`); repeated blobs stay repeated. */
  readonly layers: readonly Hash[];
}

const Schema1Schema = z.object({
  schemaVersion: z.literal(1),
  fsLayers: z.array(z.object({ blobSum: DigestSchema })).max(10_000),
});

const ProtectedSchema = z.object({
  formatLength: z.number().int().min(0),
  formatTail: z.string(),
});

const SignaturesSchema = z.object({
  signatures: z.array(z.object({ protected: z.string() })).min(1),
});

/**
 * The digest distribution gives a signed schema 1 manifest: sha256 of the payload the JWS
 * signatures cover, i.e. the bytes before the signatures (`formatLength`) plus the protected
 * header's `formatTail`. Undefined for an unsigned manifest or one whose signature block does
 * not say where its payload ends.
 */
export function schema1PayloadDigest(raw: Uint8Array): Hash | undefined {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(raw).toString("utf8"));
  } catch {
    return undefined;
  }
  const signed = SignaturesSchema.safeParse(document);
  if (!signed.success) return undefined;
  const first = signed.data.signatures[0];
  if (!first) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(first.protected, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  const format = ProtectedSchema.safeParse(header);
  if (!format.success || format.data.formatLength > raw.byteLength) return undefined;
  const payload = Buffer.concat([
    Buffer.from(raw).subarray(0, format.data.formatLength),
    Buffer.from(format.data.formatTail, "base64url"),
  ]);
  return Hash.compute(payload);
}

/** Reads what a copy needs from a schema 1 manifest. */
export function parseSchema1(
  raw: Uint8Array,
  mediaType: string,
  digest: Hash,
  reference: string,
): Schema1Manifest {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(raw).toString("utf8"));
  } catch (cause) {
    throw new RemoteError(`schema 1 manifest ${reference} is not JSON`, {
      code: "HOIST_REMOTE_BAD_RESPONSE",
      operation: "read schema 1 manifest",
      reference,
      cause,
    });
  }
  const parsed = Schema1Schema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RemoteError(
      `schema 1 manifest ${reference}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
      {
        code: "HOIST_REMOTE_BAD_RESPONSE",
        operation: "read schema 1 manifest",
        reference,
      },
    );
  }
  return {
    mediaType: mediaType || MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED,
    digest,
    rawManifest: Uint8Array.from(raw),
    layers: parsed.data.fsLayers.map((layer) => layer.blobSum).reverse(),
  };
}
