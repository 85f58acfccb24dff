import { readFileSync } from "node:fs";
import type { Dispatcher } from "undici";
import { TransportError } from "./errors.js";

type Pem = string | Uint8Array;

/** TLS settings for every connection the transport opens. */
export interface TlsOptions {
  /**
   * Extra certificate authorities (PEM) to trust in addition to Node's bundled roots and
   * NODE_EXTRA_CA_CERTS. Use it for registries with a private CA.
   */
  readonly ca?: Pem | readonly Pem[];
  /** Client certificate (PEM) for registries that require mutual TLS. */
  readonly cert?: Pem;
  /** Private key (PEM) of the client certificate. */
  readonly key?: Pem;
  readonly passphrase?: string;
  /**
   * Skip certificate verification. Only for registries the caller explicitly declared
   * insecure: anyone on the network path can then read and change the traffic.
   */
  readonly insecureSkipVerify?: boolean;
}

/**
 * Where requests go out. "env" (the default) follows HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and
 * their lower-case forms); "direct" ignores them; an object names the proxies explicitly.
 */
export type ProxyOptions =
  | "env"
  | "direct"
  | { readonly http?: string; readonly https?: string; readonly noProxy?: string };

export interface DispatcherOptions {
  tls?: TlsOptions | undefined;
  proxy?: ProxyOptions | undefined;
  connectionsPerOrigin: number;
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

function toText(pem: Pem): string {
  return typeof pem === "string" ? pem : Buffer.from(pem).toString("utf8");
}

/**
 * Node's `ca` option replaces the default trust store, so extra CAs are added to the bundled
 * roots, and to NODE_EXTRA_CA_CERTS, which Node applies only when `ca` is not given.
 */
function trustedRoots(extra: Pem | readonly Pem[]): string[] {
  const list = (Array.isArray(extra) ? extra : [extra]) as Pem[];
  // Loaded here rather than at start-up: most commands never make a TLS connection of this kind.
  const roots = [...process.getBuiltinModule("node:tls").rootCertificates];
  const envFile = process.env.NODE_EXTRA_CA_CERTS;
  if (envFile) {
    try {
      roots.push(readFileSync(envFile, "utf8"));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS; do the same by ignoring it.
    }
  }
  return [...roots, ...list.map(toText)];
}

function checkProxyUrl(name: string, value: string | undefined): void {
  if (value === undefined) return;
  try {
    const url = new URL(value);
    if (!["http:", "https:", "socks5:", "socks:"].includes(url.protocol)) throw new Error("scheme");
  } catch (cause) {
    throw new TransportError(
      `proxy.${name} must be an http(s) URL such as "http://proxy.example:3128"; got "${value.replace(/\/\/[^/@]*@/, "//")}".`,
      { code: "HOIST_TRANSPORT_INVALID_OPTIONS", operation: "create transport", cause },
    );
  }
}

/** The TLS settings of every connection the transport opens, in Node's terms. */
export function tlsConnectOptions(tls: TlsOptions = {}) {
  return {
    rejectUnauthorized: tls.insecureSkipVerify !== true,
    // Nothing is verified without certificate checks, so no trust store is needed: an empty
    // one spares Node parsing its bundled roots (about 20 ms of every insecure CLI command,
    // which tries https before http).
    ...(tls.insecureSkipVerify === true
      ? { ca: [] }
      : tls.ca !== undefined
        ? { ca: trustedRoots(tls.ca) }
        : {}),
    ...(tls.cert !== undefined ? { cert: toText(tls.cert) } : {}),
    ...(tls.key !== undefined ? { key: toText(tls.key) } : {}),
    ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
  };
}

/**
 * Whether requests may go out on connections of the transport's own, which know no proxies:
 * only when no proxy can apply.
 */
export function proxyAllowsDirect(proxy: ProxyOptions | undefined): boolean {
  if (proxy === "direct") return true;
  if (proxy !== undefined && proxy !== "env") return false;
  return ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].every(
    (name) => !process.env[name],
  );
}

/** What the transport asks of a dispatcher: requests, and closing. */
export interface RequestDispatcher {
  request(options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

/**
 * Builds the undici dispatcher a transport owns: keep-alive pools per origin, proxy and TLS.
 * Options are checked at once; undici itself is loaded and built at the first request. Where
 * the transport's own connections carry every request (no proxy, plain answers), a command
 * never loads it: on the 2-core machine its modules, its dispatcher and its parser's first use
 * cost about 10 ms of every command's start.
 */
export function createDispatcher(options: DispatcherOptions): RequestDispatcher {
  const proxy = options.proxy ?? "env";
  if (typeof proxy === "object") {
    checkProxyUrl("http", proxy.http);
    checkProxyUrl("https", proxy.https);
  }
  let built: Promise<Dispatcher> | undefined;
  const build = async (): Promise<Dispatcher> => {
    const { Agent, EnvHttpProxyAgent } = await import("undici");
    const connect = { timeout: options.connectTimeoutMs, ...tlsConnectOptions(options.tls) };
    const base = {
      connections: options.connectionsPerOrigin,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      connect,
    };
    if (proxy === "direct") return new Agent(base);
    // The proxy agents tunnel through CONNECT and take the target's TLS settings from requestTls.
    const proxied = { ...base, requestTls: connect, proxyTls: connect };
    if (proxy === "env") return new EnvHttpProxyAgent(proxied);
    return new EnvHttpProxyAgent({
      ...proxied,
      // An empty string stops EnvHttpProxyAgent from falling back to the environment.
      httpProxy: proxy.http ?? "",
      httpsProxy: proxy.https ?? "",
      noProxy: proxy.noProxy ?? "",
    });
  };
  let closed = false;
  return {
    async request(requestOptions) {
      if (closed) {
        throw Object.assign(new Error("the transport's connections are closed"), {
          code: "UND_ERR_CLOSED",
        });
      }
      built ??= build();
      const dispatcher = await built;
      return dispatcher.request(requestOptions);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (built !== undefined) await (await built).close();
    },
  };
}
