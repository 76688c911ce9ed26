// Real sockets that misbehave the ways a database or an API front can: nothing listening, a peer that hangs up,
// a peer that accepts and then never says a word.
import { createServer, type Server, type Socket } from "node:net";

export { freePort } from "@scripts/local/ports.ts";

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

export interface SwitchablePath {
  port: number;
  /** Stop listening and cut every forwarded connection: clients see their sockets drop, then ECONNREFUSED. */
  down(): Promise<void>;
  /** Listen again on the same port and forward to the target. */
  up(): Promise<void>;
  /**
   * Stop forwarding without closing anything, the way a network partition or a frozen host looks: connections stay
   * open in silence, new ones are accepted and never answered. `thaw()` forwards new connections again.
   */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/**
 * A plain TCP forwarder in front of a real server (here, the test Postgres), which can be switched off and on: the
 * database "going away" and "coming back" on the wire, without stopping the Postgres other suites share.
 */
export async function startSwitchablePath(targetPort: number): Promise<SwitchablePath> {
  const { connect } = await import("node:net");
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  const up = async () => {
    if (server) return;
    server = createServer((client) => {
      track(client);
      if (frozen) return void client.pause();
      const upstream = connect(targetPort, "127.0.0.1");
      track(upstream);
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      client.pipe(upstream).pipe(client);
      client.on("close", () => (pairs.delete(pair), upstream.destroy()));
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  };
  const down = async () => {
    const closing = server ? new Promise((resolve) => server!.close(resolve)) : Promise.resolve();
    server = undefined;
    for (const s of sockets) s.destroy();
    await closing;
  };
  const freeze = () => {
    frozen = true;
    for (const [client, upstream] of pairs) {
      client.unpipe(upstream).pause();
      upstream.unpipe(client).pause();
    }
  };
  await up();
  return { port, up, down, freeze, thaw: () => void (frozen = false), close: down };
}
