import type { Hash } from "@hoist/oci";
import type { Session, TransportResponse } from "@hoist/transport";
import { RemoteError } from "./errors.js";
import { translateError } from "./translate-error.js";

// The pieces of a blob upload session (distribution spec "pushing blobs"): where the next
// request goes, how much the registry says it has, sending chunks with recovery, committing.

/** The upload URL the registry answered with (`Location`), resolved against the request URL. */
export function uploadLocation(response: TransportResponse, what: string): URL | undefined {
  const location = response.headers.get("location");
  if (!location) return undefined;
  try {
    return new URL(location, response.url);
  } catch (cause) {
    throw new RemoteError(
      `${what}: the registry's upload Location ${JSON.stringify(location.slice(0, 200))} is not a URL`,
      {
        code: "HOIST_REMOTE_BAD_RESPONSE",
        operation: what,
        cause,
      },
    );
  }
}

/** `url` with `digest=` added, keeping the registry's own query (distribution's `_state`). */
export function withDigest(url: URL, digest: Hash): URL {
  const next = new URL(url);
  const parameter = `digest=${encodeURIComponent(digest.toString())}`;
  next.search = next.search ? `${next.search}&${parameter}` : `?${parameter}`;
  return next;
}

/**
 * Bytes the registry holds according to a `Range: 0-<last>` (or `bytes=0-<last>`) header.
 * distribution answers `0-0` for an empty session too, so `0-0` counts as nothing received.
 */
export function receivedBytes(response: TransportResponse): number | undefined {
  const range = /^(?:bytes=)?0-(\d+)$/.exec(response.headers.get("range")?.trim() ?? "");
  if (!range) return undefined;
  const last = Number(range[1]);
  return last === 0 ? 0 : last + 1;
}

/** Splits a byte stream into pieces of exactly `size` bytes (the last may be shorter). */
export async function* chunksOf(
  source: AsyncIterable<Uint8Array>,
  size: number,
): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    while (pendingBytes + buffer.length >= size) {
      const take = size - pendingBytes;
      pending.push(buffer.subarray(0, take));
      yield Buffer.concat(pending, size);
      buffer = buffer.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (buffer.length > 0) {
      pending.push(buffer);
      pendingBytes += buffer.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

export interface ChunkSender {
  session: Session;
  signal: AbortSignal | undefined;
  reference: string;
  /** PATCH attempts per chunk before giving up. */
  maxAttempts: number;
  /** Waits before the next attempt (backoff), rejecting when aborted. */
  pause: (attempt: number) => Promise<void>;
}

function isAborted(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  const translated = translateError(error, { operation: "upload blob", signal });
  return RemoteError.is(translated) && translated.code === "HOIST_REMOTE_ABORTED";
}

/**
 * Asks the registry how much of the upload it holds (`GET <upload URL>`, spec 1.1). "gone"
 * when it no longer knows the session: distribution signs the offset into the URL's `_state`,
 * so once a chunk it stored lost its answer, the old URL is dead and only starting over helps.
 */
async function uploadStatus(
  sender: ChunkSender,
  url: URL,
): Promise<{ received: number; location: URL } | "gone" | undefined> {
  try {
    const response = await sender.session.request({
      method: "GET",
      url,
      expectStatus: [200, 204, 404],
      ...(sender.signal ? { signal: sender.signal } : {}),
    });
    await response.discard();
    if (response.status === 404) return "gone";
    const received = receivedBytes(response);
    if (received === undefined) return undefined;
    return { received, location: uploadLocation(response, "upload status") ?? url };
  } catch (error) {
    if (isAborted(error, sender.signal)) throw error;
    return undefined;
  }
}

/**
 * Sends one chunk (`PATCH` with `Content-Range: <start>-<end>`) and returns the URL for the
 * next request. A failed chunk (an error, a 416, a reset) is recovered by asking the registry
 * what it holds and sending only what is missing. A `Range` answer behind what the registry
 * already acknowledged is not believed: ECR keeps reporting a stale `Range` while storing
 * every chunk, so the client's own count of acknowledged bytes wins.
 */
export async function sendChunk(
  sender: ChunkSender,
  startUrl: URL,
  chunk: Buffer,
  start: number,
): Promise<URL> {
  let url = startUrl;
  let data = chunk;
  let at = start;
  const end = start + chunk.length;
  let lastError: unknown;
  for (let attempt = 1; attempt <= sender.maxAttempts; attempt++) {
    if (attempt > 1) await sender.pause(attempt - 1);
    try {
      const response = await sender.session.request({
        method: "PATCH",
        url,
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${at}-${at + data.length - 1}`,
        },
        body: data,
        retry: false,
        ...(sender.signal ? { signal: sender.signal } : {}),
      });
      await response.discard();
      return uploadLocation(response, "upload chunk") ?? url;
    } catch (error) {
      if (isAborted(error, sender.signal)) throw error;
      lastError = error;
    }
    const status = await uploadStatus(sender, url);
    if (status === "gone") break;
    if (!status) continue;
    url = status.location;
    if (status.received >= end) return url;
    if (status.received > at) {
      data = data.subarray(status.received - at);
      at = status.received;
    }
  }
  const cause = translateError(lastError, {
    operation: "upload blob",
    reference: sender.reference,
  });
  throw new RemoteError(
    `upload blob ${sender.reference}: bytes ${start}-${end - 1} could not be sent (the upload session was lost, or ${sender.maxAttempts} attempts failed): ${cause instanceof Error ? cause.message : String(cause)}`,
    {
      code: "HOIST_REMOTE_UPLOAD_FAILED",
      operation: "upload blob",
      reference: sender.reference,
      cause,
    },
  );
}

/**
 * Abandons an upload session so the registry can drop what it holds (`DELETE <upload URL>`).
 * Best effort and in the background: it must not delay or fail the caller, who is either done
 * (a permission check) or already failing (an aborted or broken upload).
 */
export function cancelUpload(session: Session | Promise<Session>, location: URL): void {
  Promise.resolve(session)
    .then((ready) =>
      ready.request({
        method: "DELETE",
        url: location,
        expectStatus: [200, 202, 204, 404, 405],
        retry: false,
        signal: AbortSignal.timeout(5000),
      }),
    )
    .then((response) => response.discard())
    .catch(() => {});
}
