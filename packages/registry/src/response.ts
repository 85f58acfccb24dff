import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { type DistributionError, errorBody } from "./distribution-error.js";

/** Header values as the response writer takes them. */
export type ResponseHeaders = Record<string, string | number | readonly string[]>;

/**
 * An answer of the registry before it is written: handlers return these, fault hooks can
 * inspect and rewrite them (see `FaultContext.forward`).
 */
export interface RegistryResponse {
  status: number;
  headers: ResponseHeaders;
  /** Bytes, text, or a stream of bytes (blob content). Omitted for empty answers. */
  body?: Uint8Array | string | Readable;
}

export function jsonResponse(status: number, value: unknown, headers: ResponseHeaders = {}) {
  return bytesResponse(status, JSON.stringify(value), {
    "Content-Type": "application/json; charset=utf-8",
    ...headers,
  });
}

export function bytesResponse(
  status: number,
  body: Uint8Array | string,
  headers: ResponseHeaders = {},
): RegistryResponse {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  return { status, headers: { "Content-Length": bytes.length, ...headers }, body: bytes };
}

export function emptyResponse(status: number, headers: ResponseHeaders = {}): RegistryResponse {
  return { status, headers: { "Content-Length": 0, ...headers } };
}

export function errorResponse(error: DistributionError): RegistryResponse {
  return bytesResponse(error.status, errorBody(error.errors), {
    "Content-Type": "application/json; charset=utf-8",
    ...error.headers,
  });
}

/** The headers of a response, with names lowercased (for fault hooks and tests). */
export function headerValue(response: RegistryResponse, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(response.headers)) {
    if (key.toLowerCase() === wanted)
      return Array.isArray(value) ? value.join(", ") : String(value);
  }
  return undefined;
}

export interface WriteOptions {
  /** Send only this many body bytes, then cut the connection (a fault). */
  truncateAfter?: number;
}

/**
 * Writes a response. Every answer carries `Docker-Distribution-API-Version` (a response's own
 * header of that name wins, so a fault hook can lie about it). HEAD answers keep their
 * Content-Length but send no body.
 */
export async function writeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: RegistryResponse,
  options: WriteOptions = {},
): Promise<void> {
  if (res.headersSent || res.destroyed) {
    if (response.body instanceof Readable) response.body.destroy();
    return;
  }
  res.statusCode = response.status;
  res.setHeader("Docker-Distribution-API-Version", "registry/2.0");
  for (const [name, value] of Object.entries(response.headers)) {
    res.setHeader(name, typeof value === "number" ? String(value) : (value as string | string[]));
  }
  const body = response.body;
  if (
    req.method === "HEAD" ||
    body === undefined ||
    response.status === 204 ||
    response.status === 304
  ) {
    if (body instanceof Readable) body.destroy();
    if (options.truncateAfter !== undefined) return cut(res);
    res.end();
    return;
  }
  const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
    body instanceof Readable ? body : [typeof body === "string" ? Buffer.from(body) : body];
  await pump(chunks, res, options.truncateAfter);
}

async function pump(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  res: ServerResponse,
  limit: number | undefined,
): Promise<void> {
  let sent = 0;
  if (limit === 0) return cut(res);
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      if (limit !== undefined && sent + chunk.length >= limit) {
        await new Promise<void>((resolve) =>
          res.write(chunk.subarray(0, limit - sent), () => resolve()),
        );
        return cut(res);
      }
      sent += chunk.length;
      if (!res.write(chunk)) await drained(res);
    }
  } catch {
    // The source failed after the status line went out: all that can be done is to cut the
    // connection, so the client sees a short body rather than a complete-looking one.
    res.destroy();
    return;
  }
  res.end();
}

/** Ends the exchange abruptly after what was written so far has reached the socket. */
async function cut(res: ServerResponse): Promise<void> {
  res.flushHeaders();
  const socket = res.socket;
  // An empty write's callback runs once everything queued before it is flushed.
  if (socket && !socket.destroyed)
    await new Promise<void>((resolve) => socket.write("", () => resolve()));
  // Destroy the socket, not just the response, so keep-alive cannot hide the cut.
  socket?.destroy();
  res.destroy();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
