import type { Server, Socket } from "node:net";
import { afterEach } from "vitest";
import { DirectPool, type DirectPoolOptions } from "../src/direct/direct-pool.js";

/**
 * Direct pools with short timeouts for tests against raw loopback servers, and the cleanup
 * after each test: pools closed, every server connection destroyed (a paused socket never reads
 * the client's close), servers closed.
 */
export function directHarness(): {
  pool(overrides?: Partial<DirectPoolOptions>): DirectPool;
  track(server: Server): Server;
} {
  const pools: DirectPool[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) pool.close();
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(
      servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
    );
  });
  return {
    pool(overrides = {}) {
      const created = new DirectPool({
        connectTimeoutMs: 2000,
        headersTimeoutMs: 2000,
        bodyTimeoutMs: 2000,
        keepAliveTimeoutMs: 2000,
        maxIdlePerOrigin: 4,
        ...overrides,
      });
      pools.push(created);
      return created;
    },
    track(server) {
      servers.push(server);
      server.on("connection", (socket: Socket) => sockets.push(socket));
      return server;
    },
  };
}
