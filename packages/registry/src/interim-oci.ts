// Interim stand-ins for @hoist/oci (digests, media types, manifest parsing) until that package
// lands on main; this module is deleted then and its importers switch to "@hoist/oci".

import { createHash } from "node:crypto";
import { Readable } from "node:stream";

export type HashAlgorithm = "sha256" | "sha512";
const HEX_LENGTH: Record<HashAlgorithm, number> = { sha256: 64, sha512: 128 };

export class InterimOciError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export class Hash {
  readonly algorithm: HashAlgorithm;
  readonly hex: string;
  private constructor(algorithm: HashAlgorithm, hex: string) {
    this.algorithm = algorithm;
    this.hex = hex;
  }
  static parse(value: string): Hash {
    const separator = typeof value === "string" ? value.indexOf(":") : -1;
    const algorithm = separator > 0 ? value.slice(0, separator) : "";
    const hex = separator > 0 ? value.slice(separator + 1) : "";
    if (algorithm !== "sha256" && algorithm !== "sha512") {
      throw new InterimOciError(
        `invalid digest ${JSON.stringify(value)}: use sha256 or sha512`,
        /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/.test(algorithm)
          ? "HOIST_OCI_UNSUPPORTED_ALGORITHM"
          : "HOIST_OCI_INVALID_DIGEST",
      );
    }
    if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
      throw new InterimOciError(
        `invalid digest ${JSON.stringify(value)}: expected ${HEX_LENGTH[algorithm]} lowercase hex characters`,
        "HOIST_OCI_INVALID_DIGEST",
      );
    }
    return new Hash(algorithm, hex);
  }
  static isValid(value: unknown): value is string {
    try {
      Hash.parse(value as string);
      return true;
    } catch {
      return false;
    }
  }
  static compute(data: Uint8Array | string, options: { algorithm?: HashAlgorithm } = {}): Hash {
    const algorithm = options.algorithm ?? "sha256";
    return new Hash(algorithm, createHash(algorithm).update(data).digest("hex"));
  }
  toString(): string {
    return `${this.algorithm}:${this.hex}`;
  }
  equals(other: Hash | string): boolean {
    return String(other) === this.toString();
  }
}

export async function hashStream(
  source: Readable | AsyncIterable<Uint8Array>,
  options: { algorithm?: HashAlgorithm; signal?: AbortSignal } = {},
): Promise<{ hash: Hash; size: number }> {
  const algorithm = options.algorithm ?? "sha256";
  const hasher = createHash(algorithm);
  let size = 0;
  const readable = source instanceof Readable ? source : Readable.from(source);
  for await (const chunk of readable) {
    options.signal?.throwIfAborted();
    hasher.update(chunk as Uint8Array);
    size += (chunk as Uint8Array).length;
  }
  return { hash: Hash.parse(`${algorithm}:${hasher.digest("hex")}`), size };
}

export const MediaType = {
  OCI_INDEX: "application/vnd.oci.image.index.v1+json",
  OCI_MANIFEST: "application/vnd.oci.image.manifest.v1+json",
  DOCKER_MANIFEST: "application/vnd.docker.distribution.manifest.v2+json",
  DOCKER_MANIFEST_LIST: "application/vnd.docker.distribution.manifest.list.v2+json",
  DOCKER_MANIFEST_SCHEMA1: "application/vnd.docker.distribution.manifest.v1+json",
  DOCKER_MANIFEST_SCHEMA1_SIGNED: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

export function baseMediaType(mediaType: string): string {
  const semicolon = mediaType.indexOf(";");
  return (semicolon === -1 ? mediaType : mediaType.slice(0, semicolon)).trim().toLowerCase();
}

export function isSchema1(mediaType: string | undefined): boolean {
  return (
    mediaType !== undefined &&
    [MediaType.DOCKER_MANIFEST_SCHEMA1, MediaType.DOCKER_MANIFEST_SCHEMA1_SIGNED].includes(
      baseMediaType(mediaType) as never,
    )
  );
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: unknown;
}
export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}
export interface IndexManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

function fail(message: string): never {
  throw new InterimOciError(message, "HOIST_OCI_INVALID_DOCUMENT");
}

function descriptor(value: unknown, where: string): Descriptor {
  if (typeof value !== "object" || value === null) fail(`${where} must be an object`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== "string") fail(`${where}.mediaType must be a string`);
  if (typeof d.digest !== "string" || !Hash.isValid(d.digest)) fail(`${where}.digest is invalid`);
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0)
    fail(`${where}.size must be a non-negative integer`);
  return d as unknown as Descriptor;
}

function document(bytes: Uint8Array | string, kind: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new InterimOciError(
      `${kind} is not JSON: ${(error as Error).message}`,
      "HOIST_OCI_INVALID_JSON",
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(`${kind} must be a JSON object`);
  const doc = value as Record<string, unknown>;
  if (doc.schemaVersion !== 2) fail(`${kind}.schemaVersion must be 2`);
  if (doc.subject !== undefined) descriptor(doc.subject, `${kind}.subject`);
  return doc;
}

export function parseManifest(bytes: Uint8Array | string): Manifest {
  const doc = document(bytes, "manifest");
  descriptor(doc.config, "manifest.config");
  if (!Array.isArray(doc.layers)) fail("manifest.layers must be an array");
  for (const [i, layer] of doc.layers.entries()) descriptor(layer, `manifest.layers[${i}]`);
  return doc as unknown as Manifest;
}

export function parseIndexManifest(bytes: Uint8Array | string): IndexManifest {
  const doc = document(bytes, "index");
  if (!Array.isArray(doc.manifests)) fail("index.manifests must be an array");
  for (const [i, m] of doc.manifests.entries()) descriptor(m, `index.manifests[${i}]`);
  return doc as unknown as IndexManifest;
}
