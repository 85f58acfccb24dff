import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { listenOnLoopback } from "./loopback-server.js";

/** A request the origin received, with its body. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type OriginHandler = (request: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface RunningHttpOrigin {
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  setHandler(handler: OriginHandler): void;
  requests(): RecordedRequest[];
  clearRequests(): void;
  stop(): Promise<void>;
}

function collect(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * A second loopback origin (a stand-in for a blob CDN or object store) that records every
 * request, headers included, so tests can prove what did and did not reach it.
 */
export async function startHttpOrigin(
  options: { handler?: OriginHandler } = {},
): Promise<RunningHttpOrigin> {
  let handler: OriginHandler =
    options.handler ??
    ((_request, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    });
  const log: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    collect(req)
      .then(async (body) => {
        const request: RecordedRequest = {
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: req.headers,
          body,
        };
        log.push(request);
        await handler(request, res);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    setHandler(next) {
      handler = next;
    },
    requests: () => [...log],
    clearRequests() {
      log.length = 0;
    },
    async stop() {
      await listening.close();
    },
  };
}
