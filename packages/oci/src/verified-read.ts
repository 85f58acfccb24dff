import { pipeline, type Readable } from "node:stream";
import {
  DigestMismatchError,
  type DocumentKind,
  InvalidDocumentError,
  SizeMismatchError,
} from "./errors.js";
import { Hash } from "./hash.js";
import { VerifyingStream } from "./hashing-stream.js";
import type { Descriptor } from "./types.js";

/**
 * The inline `data` of a descriptor, decoded and verified against its size and digest, or
 * undefined when it has none. Throws {@link SizeMismatchError} or {@link DigestMismatchError}
 * when the data is not what the descriptor claims.
 */
export function readDescriptorData(descriptor: Descriptor): Uint8Array | undefined {
  if (descriptor.data === undefined) return undefined;
  const bytes = Buffer.from(descriptor.data, "base64");
  verifyBytes(bytes, descriptor, "read descriptor data");
  return bytes;
}

/**
 * Checks that bytes are what a descriptor (digest and size) says; throws
 * {@link SizeMismatchError} or {@link DigestMismatchError} otherwise.
 */
export function verifyBytes(
  bytes: Uint8Array,
  expected: Pick<Descriptor, "digest" | "size">,
  operation = "verify content",
): void {
  if (bytes.byteLength !== expected.size) {
    throw new SizeMismatchError({
      expected: expected.size,
      actual: bytes.byteLength,
      kind: bytes.byteLength > expected.size ? "excess" : "truncated",
      operation,
    });
  }
  const actual = Hash.compute(bytes, { algorithm: expected.digest.algorithm });
  if (!actual.equals(expected.digest)) {
    throw new DigestMismatchError({
      expected: expected.digest,
      actual,
      size: bytes.byteLength,
      operation,
    });
  }
}

/**
 * @internal Reads a small blob (manifest, config) named by a descriptor: inline data when
 * present, else the stream from `open`, verified and capped.
 */
export async function readVerifiedDocument(
  descriptor: Descriptor,
  open: () => Promise<Readable>,
  options: { maxBytes: number; document: DocumentKind; operation: string; signal?: AbortSignal },
): Promise<Uint8Array> {
  checkDocumentSize(descriptor, options.maxBytes, options.document);
  const inline = readDescriptorData(descriptor);
  if (inline) return inline;
  options.signal?.throwIfAborted();
  const verifier = new VerifyingStream({
    digest: descriptor.digest,
    size: descriptor.size,
    operation: options.operation,
    subject: options.document,
  });
  // pipeline (unlike pipe) carries source errors to the verifier and closes the source on failure.
  return collect(
    pipeline(await open(), verifier, () => {}),
    options.signal,
  );
}

/** @internal Refuses a document whose descriptor announces more than `maxBytes`. */
export function checkDocumentSize(
  descriptor: Descriptor,
  maxBytes: number,
  document: DocumentKind,
): void {
  if (descriptor.size > maxBytes) {
    throw new InvalidDocumentError(
      `${document}: its descriptor says ${descriptor.size} bytes, more than the ${maxBytes}-byte limit; raise maxBytes if the source is trusted`,
      { code: "HOIST_OCI_DOCUMENT_TOO_LARGE", document },
    );
  }
}

/** @internal Reads a stream into one buffer, destroying it if the signal aborts. */
export async function collect(stream: Readable, signal?: AbortSignal): Promise<Uint8Array> {
  const onAbort = () => stream.destroy(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
