import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * How the receiver answers one request: a status and body (or body `chunks`, sent with chunked transfer encoding,
 * and extra `headers`), or never ("hang").
 */
export type Reply = { status: number; body?: string; chunks?: string[]; headers?: Record<string, string> } | "hang";

export interface RunningReceiver {
  url: string;
  /** Every request, in arrival order. */
  received: ReceivedWebhook[];
  /** How many requests carried each X-LeadLex-Delivery-ID. */
  countsById(): Map<string, number>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 (or `listen.host`, on `listen.port` or a free one) that records each request and
 * answers as `reply` says (by arrival index), once the reply is known: a promise holds the answer back until the
 * test settles it.
 */
export async function startReceiver(
  reply: (request: ReceivedWebhook, index: number) => Reply | Promise<Reply> = () => ({ status: 200, body: "ok" }),
  listen: { host?: string; port?: number } = {},
): Promise<RunningReceiver> {
  const host = listen.host ?? "127.0.0.1";
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      void Promise.resolve(reply(request, received.push(request) - 1)).then((answer) => {
        if (answer === "hang") return;
        res.writeHead(answer.status, { "Content-Type": "text/plain", ...answer.headers });
        for (const chunk of answer.chunks ?? []) res.write(chunk);
        res.end(answer.body ?? "");
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/hooks`,
    received,
    countsById: () => {
      const counts = new Map<string, number>();
      for (const { headers } of received) {
        const id = String(headers["x-leadlex-delivery-id"]);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
