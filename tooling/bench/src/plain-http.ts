// The bare node:http calls of the benchmark's own minimal clients (the copy ceiling and the
// node row): no retries, no limits, nothing a real client would add.
import type { Agent, IncomingMessage } from "node:http";
import { request } from "node:http";

/** Sends one request; a stream body is piped, a Buffer sent whole. */
export function call(
  agent: Agent,
  url: string,
  method: string,
  headers: Record<string, string | number>,
  body?: NodeJS.ReadableStream | Buffer,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, resolve);
    req.on("error", reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** Reads a response to its end, so that its connection can be reused. */
export async function drain(response: IncomingMessage): Promise<void> {
  response.resume();
  await new Promise((resolve, reject) => response.on("end", resolve).on("error", reject));
}

/** Reads a response to its end, failing unless it had `status`. */
export async function expectStatus(
  response: IncomingMessage,
  status: number,
  what: string,
): Promise<void> {
  await drain(response);
  if (response.statusCode !== status) throw new Error(`${what}: status ${response.statusCode}`);
}
