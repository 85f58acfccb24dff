import net from "node:net";

/** What {@link guardLoopbackOnly} returns: the refused destinations, and a way to undo it. */
export interface LoopbackGuard {
  /** "host:port" of every connection that was refused, in order. */
  readonly refused: readonly string[];
  restore(): void;
}

const LOOPBACK_NAMES = new Set(["localhost", "::1", "[::1]", "0:0:0:0:0:0:0:1"]);

/** Whether a host is on this machine's loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase();
  if (LOOPBACK_NAMES.has(bare) || bare.endsWith(".localhost")) return true;
  if (/^127(?:\.\d{1,3}){3}$/.test(bare)) return true;
  const mapped = /^(?:::ffff:)(127(?:\.\d{1,3}){3})$/.exec(bare);
  return mapped !== null;
}

type ConnectOptions = {
  host?: string;
  port?: number | string;
  path?: string | null;
  lookup?: unknown;
};

let active: { refused: string[]; original: typeof net.Socket.prototype.connect } | undefined;

/**
 * Refuses, at once and in-process, every TCP connection (plain, TLS, HTTP agents, fetch) to a
 * host outside loopback, so a test of a cloud SDK can never reach the internet or wait on a
 * metadata server: the socket fails with ENOTFOUND instead. Unix sockets pass. Install it
 * before the code under test connects; call `restore()` after.
 */
export function guardLoopbackOnly(): LoopbackGuard {
  if (active) throw new Error("guardLoopbackOnly() is already active in this process");
  const refused: string[] = [];
  const original = net.Socket.prototype.connect;
  active = { refused, original };
  // Every client socket in Node (net.connect, tls.connect, http(s).Agent, undici) ends in
  // Socket.prototype.connect, which takes options, normalized [options, callback], or (port, host).
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    let options: ConnectOptions;
    if (Array.isArray(first)) options = (first[0] ?? {}) as ConnectOptions;
    else if (typeof first === "object" && first !== null) options = first as ConnectOptions;
    else if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first)))
      options = { port: first, host: typeof args[1] === "string" ? args[1] : "localhost" };
    else options = { path: String(first) };
    // HTTP agents pass `path: null`; only a non-empty string path is a Unix socket.
    if (typeof options.path !== "string" || options.path === "") {
      const host = options.host ?? "localhost";
      if (!isLoopbackHost(host)) {
        refused.push(`${host}:${options.port ?? ""}`);
        const blocked: ConnectOptions = {
          ...options,
          // A name that needs a lookup, and a lookup that fails: the socket errors asynchronously,
          // as a real unreachable host would, but immediately.
          host: "refused-by-hoist-loopback-guard.invalid",
          lookup: (_name: string, _opts: unknown, callback: (error: Error) => void) => {
            const error = Object.assign(
              new Error(
                `hoist test guard: refused a connection to ${host}:${options.port ?? ""} (tests may only reach loopback)`,
              ),
              { code: "ENOTFOUND" },
            );
            process.nextTick(() => callback(error));
          },
        };
        if (Array.isArray(first)) first[0] = blocked;
        else if (typeof first === "object" && first !== null) args[0] = blocked;
        else args.splice(0, 2, blocked);
      }
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return {
    refused,
    restore() {
      if (active?.refused !== refused) return;
      net.Socket.prototype.connect = original;
      active = undefined;
    },
  };
}
