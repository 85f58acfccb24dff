import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import { listenOnLoopback } from "./loopback-server.js";

export interface ForwardProxyRecord {
  /** "CONNECT" for tunnels, else the method of an absolute-form request. */
  readonly method: string;
  /** "host:port" for CONNECT, the absolute URL otherwise. */
  readonly target: string;
  readonly proxyAuthorization: string | undefined;
}

export interface RunningForwardProxy {
  /** "http://127.0.0.1:PORT", for HTTP_PROXY / HTTPS_PROXY. */
  readonly url: string;
  readonly port: number;
  requests(): ForwardProxyRecord[];
  stop(): Promise<void>;
}

/**
 * A minimal HTTP forward proxy (CONNECT tunnels and absolute-form requests) that logs what it
 * carried, to prove that a client honours HTTP(S)_PROXY and NO_PROXY.
 */
export async function startForwardProxy(): Promise<RunningForwardProxy> {
  const log: ForwardProxyRecord[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    log.push({
      method: req.method ?? "GET",
      target: req.url ?? "",
      proxyAuthorization: req.headers["proxy-authorization"],
    });
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      res.writeHead(400);
      res.end("absolute-form request expected");
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = httpRequest(
      {
        hostname: url.hostname,
        port: url.port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    log.push({
      method: "CONNECT",
      target: req.url ?? "",
      proxyAuthorization: req.headers["proxy-authorization"],
    });
    const [host, port] = (req.url ?? "").split(/:(?=\d+$)/);
    const upstream = connect(Number(port), host ?? "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    listening.track(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  const listening = await listenOnLoopback(server);
  const { port } = listening;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => [...log],
    async stop() {
      await listening.close();
    },
  };
}
