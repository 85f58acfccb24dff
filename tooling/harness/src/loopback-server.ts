import type { Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Listening {
  readonly port: number;
  /** Tracks a socket the server did not accept itself (a tunnel's upstream), so close() ends it. */
  track(socket: Socket): void;
  /** Destroys every open connection (stalled ones included) and closes the server. */
  close(): Promise<void>;
}

/** Listens on a free 127.0.0.1 port, keeping the connections so a stop is immediate. */
export async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  server.on("connection", track);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    track,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
