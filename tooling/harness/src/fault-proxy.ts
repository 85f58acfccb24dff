import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { listenOnLoopback } from "./loopback-server.js";
import { seededRandom } from "./seeded-random.js";

/** What the proxy does to a request a rule matched. */
export type Fault =
  /** Answer with this status (and headers/body) instead of forwarding, e.g. 503 or 429 + Retry-After. */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Reset the connection (TCP RST) before any response. */
  | { kind: "reset" }
  /** Forward, send the headers and `afterBytes` body bytes, then reset the connection. */
  | { kind: "reset-body"; afterBytes: number }
  /** Forward, send the headers (with the full Content-Length) and `afterBytes` bytes, then close cleanly. */
  | { kind: "truncate"; afterBytes: number }
  /** Forward, let the origin answer, then reset the connection before any of the answer is sent. */
  | { kind: "lose-response" }
  /** Wait `ms`, then forward normally. */
  | { kind: "delay"; ms: number }
  /** Never answer (until the client gives up or the proxy stops). */
  | { kind: "stall" }
  /** Forward, send the headers and `afterBytes` body bytes, then go silent. */
  | { kind: "stall-body"; afterBytes: number }
  /**
   * Forward, changing what goes upstream and what comes back: drop a request's `Range` (an
   * origin that ignores ranges), rewrite a response's `Range` or strip `Docker-Content-Digest`
   * (registries with quirks). The body passes through unchanged.
   */
  | {
      kind: "rewrite";
      requestHeaders?: (headers: IncomingHttpHeaders, request: FaultRequest) => IncomingHttpHeaders;
      response?: (answer: RewrittenAnswer, request: FaultRequest) => RewrittenAnswer;
    }
  /** Answer with a redirect instead of forwarding. */
  | {
      kind: "redirect";
      status?: 301 | 302 | 303 | 307 | 308;
      location: string | ((request: FaultRequest) => string);
    }
  /** Write these bytes to the socket instead of an HTTP answer, then close it. */
  | { kind: "raw"; data: string | Uint8Array };

/** A response's status and headers, as a `rewrite` fault sees and returns them. */
export interface RewrittenAnswer {
  status: number;
  headers: IncomingHttpHeaders;
}

/** The request a rule is matched against. */
export interface FaultRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface FaultRule {
  /** Shown in the request log. Default: the fault's kind. */
  name?: string;
  /** Methods to match (any when omitted). */
  method?: string | readonly string[];
  /** A string matches the path without query exactly; a RegExp is tested against path and query. */
  path?: string | RegExp;
  /** Let this many matching requests through untouched first. Default 0. */
  after?: number;
  /** Fault this many matching requests, then stop. Default: all of them. */
  times?: number;
  /** Fault each eligible request with this probability, drawn from the seeded generator. Default 1. */
  probability?: number;
  fault: Fault;
}

/** One request through the proxy. Headers are recorded as received (tests assert on them). */
export interface ProxyRecord {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The rule applied, if any (its name or fault kind). */
  readonly fault: string | undefined;
  /** Status sent to the client, when one was sent. */
  status: number | undefined;
}

export interface FaultProxyOptions {
  /** Origin to forward to, e.g. a registry's "http://127.0.0.1:5000". */
  target: string;
  rules?: readonly FaultRule[];
  /** Seed for `probability`; the same seed replays the same faults. Default 1. */
  seed?: number;
}

export interface RunningFaultProxy {
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  /** "127.0.0.1:PORT", usable as a registry host. */
  readonly host: string;
  readonly port: number;
  /** Replaces every rule (and their counters); `seed` restarts the generator for a new run. */
  setRules(rules: readonly FaultRule[], options?: { seed?: number }): void;
  addRule(rule: FaultRule): void;
  clearRules(): void;
  requests(): ProxyRecord[];
  clearRequests(): void;
  stop(): Promise<void>;
}

/** Headers a rewrite set to undefined are dropped (node:http refuses undefined values). */
function definedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined));
}

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  applied: number;
}

function matches(rule: FaultRule, request: FaultRequest): boolean {
  if (rule.method !== undefined) {
    const methods = typeof rule.method === "string" ? [rule.method] : rule.method;
    if (!methods.some((m) => m.toUpperCase() === request.method)) return false;
  }
  if (rule.path !== undefined) {
    if (typeof rule.path === "string") {
      if (request.path.split("?")[0] !== rule.path) return false;
    } else if (!rule.path.test(request.path)) {
      return false;
    }
  }
  return true;
}

/**
 * A reverse proxy on loopback that forwards to `target` and injects faults by rule: status
 * bursts, connection resets before or during the body, truncation, delays, stalls and
 * redirects. The Host header is forwarded unchanged, so a registry behind it builds
 * Location headers that point back at the proxy.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<RunningFaultProxy> {
  const target = new URL(options.target);
  let random = seededRandom(options.seed ?? 1);
  let rules: ActiveRule[] = (options.rules ?? []).map((rule) => ({ rule, seen: 0, applied: 0 }));
  const log: ProxyRecord[] = [];
  const stalled = new Set<ServerResponse>();
  // A connection to the target per request, closed with its answer: no pooled socket outlives
  // the request that opened it, so a leak the reliability suite counts is the client's own.
  const agent = new Agent({ keepAlive: false });

  const choose = (request: FaultRequest): FaultRule | undefined => {
    for (const active of rules) {
      if (!matches(active.rule, request)) continue;
      active.seen++;
      if (active.seen <= (active.rule.after ?? 0)) continue;
      if (active.rule.times !== undefined && active.applied >= active.rule.times) continue;
      if (active.rule.probability !== undefined && random() >= active.rule.probability) continue;
      active.applied++;
      return active.rule;
    }
    return undefined;
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    record: ProxyRecord,
    bodyFault?:
      | { kind: "reset-body" | "truncate" | "stall-body"; afterBytes: number }
      | { kind: "lose-response" },
    rewrite?: Extract<Fault, { kind: "rewrite" }>,
  ) => {
    const request: FaultRequest = {
      method: (req.method ?? "GET").toUpperCase(),
      path: req.url ?? "/",
      headers: req.headers,
    };
    const upstream = httpRequest(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: rewrite?.requestHeaders
          ? definedHeaders(rewrite.requestHeaders({ ...req.headers }, request))
          : req.headers,
      },
      (answer) => {
        if (rewrite?.response) {
          const changed = rewrite.response(
            { status: answer.statusCode ?? 502, headers: { ...answer.headers } },
            request,
          );
          record.status = changed.status;
          res.writeHead(changed.status, definedHeaders(changed.headers));
          answer.pipe(res);
          return;
        }
        if (bodyFault?.kind === "lose-response") {
          answer.resume();
          answer.on("end", () => res.socket?.resetAndDestroy());
          return;
        }
        record.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        if (!bodyFault) {
          answer.pipe(res);
          return;
        }
        let sent = 0;
        let done = false;
        const cut = () => {
          if (done) return;
          done = true;
          answer.destroy();
          if (bodyFault.kind === "reset-body") res.socket?.resetAndDestroy();
          else if (bodyFault.kind === "truncate") res.socket?.end();
          else stalled.add(res);
        };
        if (bodyFault.afterBytes === 0) {
          res.flushHeaders();
          cut();
          return;
        }
        answer.on("data", (chunk: Buffer) => {
          if (done) return;
          const room = bodyFault.afterBytes - sent;
          if (chunk.length < room) {
            sent += chunk.length;
            res.write(chunk);
            return;
          }
          res.write(chunk.subarray(0, room), () => cut());
          sent += room;
        });
        answer.on("end", () => {
          if (!done) res.end();
        });
      },
    );
    // A client that gives up (a timeout, a reset it was sent) must not leave the upstream
    // exchange open: an unread answer would hold a socket to the registry forever, and the
    // reliability suite counts sockets.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on("error", () => {
      if (!res.headersSent) {
        record.status = 502;
        res.writeHead(502, { "content-type": "text/plain" });
        res.end("fault proxy: upstream failed");
      } else {
        res.destroy();
      }
    });
    req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    const request: FaultRequest = {
      method: (req.method ?? "GET").toUpperCase(),
      path: req.url ?? "/",
      headers: req.headers,
    };
    const rule = choose(request);
    const record: ProxyRecord = {
      method: request.method,
      path: request.path,
      headers: req.headers,
      fault: rule ? (rule.name ?? rule.fault.kind) : undefined,
      status: undefined,
    };
    log.push(record);
    if (!rule) return forward(req, res, record);
    const fault = rule.fault;
    switch (fault.kind) {
      case "status": {
        req.resume();
        const body = fault.body ?? `fault proxy: injected ${fault.status}`;
        record.status = fault.status;
        res.writeHead(fault.status, {
          "content-type": "text/plain",
          "content-length": Buffer.byteLength(body),
          ...fault.headers,
        });
        res.end(req.method === "HEAD" ? undefined : body);
        return;
      }
      case "reset":
        req.resume();
        req.socket.resetAndDestroy();
        return;
      case "stall":
        req.resume();
        stalled.add(res);
        return;
      case "delay": {
        const timer = setTimeout(() => forward(req, res, record), fault.ms);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      case "raw":
        req.resume();
        req.socket.end(fault.data);
        return;
      case "redirect": {
        req.resume();
        const location =
          typeof fault.location === "function" ? fault.location(request) : fault.location;
        record.status = fault.status ?? 307;
        res.writeHead(record.status, { location, "content-length": "0" });
        res.end();
        return;
      }
      case "rewrite":
        forward(req, res, record, undefined, fault);
        return;
      default:
        forward(req, res, record, fault);
    }
  });
  const listening = await listenOnLoopback(server);
  const { port } = listening;

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    setRules(next, setOptions = {}) {
      rules = next.map((rule) => ({ rule, seen: 0, applied: 0 }));
      if (setOptions.seed !== undefined) random = seededRandom(setOptions.seed);
    },
    addRule(rule) {
      rules.push({ rule, seen: 0, applied: 0 });
    },
    clearRules() {
      rules = [];
    },
    requests: () => [...log],
    clearRequests() {
      log.length = 0;
    },
    async stop() {
      stalled.clear();
      await listening.close();
      agent.destroy();
    },
  };
}
