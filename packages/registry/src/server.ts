import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { quote, RegistryError } from "./errors.js";
import { createRegistry, type Registry, type RegistryOptions } from "./registry.js";
import type { RequestRecord } from "./request-log.js";
import type { RegistryStorage } from "./storage/types.js";

export interface StartRegistryOptions extends RegistryOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on. Default "127.0.0.1". */
  host?: string;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Aborting it stops the start, or closes the running registry. */
  signal?: AbortSignal;
}

/** A registry listening on a port. */
export interface RunningRegistry {
  /** "http://127.0.0.1:PORT" (https with `tls`). */
  readonly url: string;
  /** "127.0.0.1:PORT": the registry part of image references. */
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly storage: RegistryStorage;
  /** Requests handled so far, oldest first. */
  requests(): readonly RequestRecord[];
  clearRequests(): void;
  /**
   * Stops listening, aborts requests in flight and closes every connection, keep-alive ones
   * included, so nothing lingers after a test. Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * Starts a registry on a port: `const reg = await startRegistry({ port: 0 })`, then point
 * clients at `reg.host` and call `reg.close()` when done.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const { port = 0, host = "127.0.0.1", tls, signal, ...registryOptions } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RegistryError(`port must be an integer from 0 to 65535, got ${quote(port)}`, {
      code: "HOIST_REGISTRY_INVALID_OPTION",
      operation: "start registry",
    });
  }
  signal?.throwIfAborted();
  const registry = createRegistry(registryOptions);
  const server: Server = tls
    ? createHttpsServer(tls, registry.handle)
    : createHttpServer(registry.handle);
  // Clients of a test registry come and go; idle sockets must not hold the process open.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(
        new RegistryError(`could not listen on ${host}:${port}: ${error.message}`, {
          code: "HOIST_REGISTRY_LISTEN_FAILED",
          operation: "start registry",
          cause: error,
        }),
      );
    };
    const onAbort = () => {
      server.off("error", onError);
      server.close();
      reject(signal?.reason);
    };
    server.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    server.listen(port, host, () => {
      server.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const authority = `${hostPart}:${address.port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      signal?.removeEventListener("abort", onSignal);
      server.close(() => resolve());
      registry.abortInFlight();
      server.closeAllConnections();
    });
    return closed;
  };
  const onSignal = () => void close();
  signal?.addEventListener("abort", onSignal, { once: true });

  return {
    url: `${tls ? "https" : "http"}://${authority}`,
    host: authority,
    port: address.port,
    registry,
    storage: registry.storage,
    requests: () => registry.requests(),
    clearRequests: () => registry.clearRequests(),
    close,
  };
}
