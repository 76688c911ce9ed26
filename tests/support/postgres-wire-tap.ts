// A plain TCP relay in front of the real test Postgres that reads what clients send on the way through: the
// frontend messages of the Postgres protocol. Everything is forwarded untouched, both ways; the server answers.
import { createConnection, createServer, type Socket } from "node:net";

const SSL_REQUEST = 80877103;

export interface WireTap {
  /** A URL for the same database, through the relay. */
  url: string;
  /** Statement names of every Parse message clients sent ("" = the unnamed statement). */
  parsedStatementNames: string[];
  close(): Promise<void>;
}

/** Splits one client's byte stream into messages: untyped start-up (and SSL request) first, then typed ones. */
function frontendReader(onParse: (statementName: string) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let startup = true;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const headerLength = startup ? 0 : 1;
      if (pending.length < headerLength + 4) return;
      const length = pending.readInt32BE(headerLength);
      if (pending.length < headerLength + length) return;
      const message = pending.subarray(0, headerLength + length);
      pending = pending.subarray(headerLength + length);
      if (startup) {
        startup = message.readInt32BE(4) === SSL_REQUEST; // after an SSL request comes the real start-up
      } else if (message[0] === 0x50 /* 'P' */) {
        onParse(message.toString("utf8", 5, message.indexOf(0, 5)));
      }
    }
  };
}

export async function startWireTap(databaseUrl: string): Promise<WireTap> {
  const target = new URL(databaseUrl);
  const parsedStatementNames: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket)).on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const read = frontendReader((name) => parsedStatementNames.push(name));
    client.on("data", (chunk: Buffer) => {
      read(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on("end", () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    parsedStatementNames,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
