// Receivers that misbehave on purpose, on real sockets on 127.0.0.1, for the hostile-receiver tests and the
// dispatcher CPU bench: each answers the first bytes of a request in one bad way and keeps going until the client
// closes the connection. What the dispatcher must record for each is in `expected`.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from "node:net";
import path from "node:path";
import { createServer as createTlsServer } from "node:tls";

export const TLS_DIR = path.join(import.meta.dirname, "tls");

/** Writes `chunk` again and again as fast as the client takes it, until the connection ends. */
function flood(socket: Socket, chunk: Buffer | string): void {
  const pump = () => {
    while (!socket.destroyed && socket.writable) if (!socket.write(chunk)) return void socket.once("drain", pump);
  };
  pump();
}

/** Writes `first`, then one byte of `drip` every `everyMs` until the connection ends. */
function dribble(socket: Socket, first: string, drip: string, everyMs: number): void {
  socket.setNoDelay(true);
  socket.write(first);
  const timer = setInterval(() => socket.writable && socket.write(drip), everyMs);
  socket.once("close", () => clearInterval(timer));
}

export interface Expected {
  status: "success" | "failed";
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

const failed = (error: string): Expected => ({ status: "failed", status_code: null, error, response_body: null });
const succeeded = (status_code: number, response_body: string): Expected => ({
  status: "success",
  status_code,
  error: null,
  response_body,
});

export const HOSTILE_KINDS = {
  "dribbled head": {
    // A byte every 2 ms reaches the cap on reads long before the head limit's bytes or the deadline.
    answer: (s: Socket) => dribble(s, "HTTP/1.1 200 OK\r\nX-Drip: ", "a", 2),
    expected: failed("malformed_response"),
  },
  "endless 100 Continue": {
    answer: (s: Socket) => flood(s, "HTTP/1.1 100 Continue\r\n\r\n".repeat(64)),
    expected: failed("malformed_response"),
  },
  "2 MB head without an end": {
    answer: (s: Socket) => s.write(`HTTP/1.1 200 OK\r\n${`X-Pad: ${"p".repeat(1000)}\r\n`.repeat(2048)}`),
    expected: failed("malformed_response"),
  },
  "endless chunked body": {
    answer: (s: Socket) => {
      s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      flood(s, `400\r\n${"b".repeat(1024)}\r\n`);
    },
    expected: succeeded(200, "b".repeat(2048)),
  },
  "Content-Length of 10 GB": {
    answer: (s: Socket) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n");
      flood(s, "c".repeat(64 * 1024));
    },
    expected: succeeded(200, "c".repeat(2048)),
  },
  "random bytes": {
    // A first byte that cannot begin "HTTP/" keeps the case from ever being valid by chance.
    answer: (s: Socket) => flood(s, Buffer.concat([Buffer.from([0]), randomBytes(16 * 1024)])),
    expected: failed("malformed_response"),
  },
  "accept and never answer": {
    answer: () => {},
    expected: failed("timeout"),
  },
  "204 kept open": {
    answer: (s: Socket) => s.write("HTTP/1.1 204 No Content\r\n\r\n"),
    expected: succeeded(204, ""),
  },
  "untrusted TLS certificate": {
    // Served with the hooks.test certificate, issued by the test CA, which the client has not been told to trust.
    answer: () => {},
    tls: true,
    expected: failed("tls_error"),
  },
  "TLS handshake never answered": {
    // A plain TCP listener behind an https:// URL: the client's hello gets no answer.
    answer: () => {},
    https: true,
    expected: failed("timeout"),
  },
} satisfies Record<string, { answer: (socket: Socket) => void; tls?: boolean; https?: boolean; expected: Expected }>;

export type HostileKind = keyof typeof HOSTILE_KINDS;

export interface HostileReceiver {
  /** http://127.0.0.1:PORT/hooks, or https://hooks.test:PORT/hooks (resolve hooks.test to 127.0.0.1). */
  url: string;
  /** Resolves once every connection accepted so far has been closed; false if that takes over `withinMs`. */
  allClosed(withinMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Starts the receiver of `kind`; it answers each connection once the request's first bytes arrive. */
export async function startHostileReceiver(kind: HostileKind): Promise<HostileReceiver> {
  const hostile: { answer: (socket: Socket) => void; tls?: boolean; https?: boolean } = HOSTILE_KINDS[kind];
  const open = new Set<Socket>();
  const onClosed: (() => void)[] = [];
  const accept = (socket: Socket) => {
    open.add(socket);
    socket.on("error", () => {}); // the client closing mid-write is the normal end here
    socket.once("close", () => {
      open.delete(socket);
      if (open.size === 0) { for (const resolve of onClosed.splice(0)) resolve(); }
    });
    socket.once("data", () => hostile.answer(socket));
  };
  const server: Server = hostile.tls
    ? createTlsServer({
      key: readFileSync(path.join(TLS_DIR, "hooks.test.key")),
      cert: readFileSync(path.join(TLS_DIR, "hooks.test.pem")),
    }, accept)
    : createTcpServer(accept);
  // A TLS client that refuses the certificate ends the handshake; the server only logs that as an error.
  server.on("tlsClientError", () => {});
  if (hostile.tls) server.on("connection", (socket: Socket) => socket.on("error", () => {}));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: hostile.tls || hostile.https ? `https://hooks.test:${port}/hooks` : `http://127.0.0.1:${port}/hooks`,
    allClosed: (withinMs) =>
      open.size === 0 ? Promise.resolve(true) : new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), withinMs);
        onClosed.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
