// Real sockets that misbehave the ways a database or an API front can: nothing listening, a peer that hangs up,
// a peer that accepts and then never says a word.
import { createServer, type Server, type Socket } from "node:net";

export { freePort } from "../../scripts/local/ports.ts";


export interface TcpPeer {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

async function listen(onSocket: (socket: Socket) => void): Promise<TcpPeer> {
  const sockets = new Set<Socket>();
  const state = { accepted: 0 };
  const server: Server = createServer((socket) => {
    state.accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    get accepted() {
      return state.accepted;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Accepts TCP connections and holds them open without ever reading a request or answering one. */
export const startSilentPeer = () => listen((socket) => socket.pause());

/** Accepts TCP connections and drops them at once, the way a crashing or restarting server does. */
export const startHangingUpPeer = () => listen((socket) => socket.destroy());
