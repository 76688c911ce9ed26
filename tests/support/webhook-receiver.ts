import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers one request: a status and body, or never ("hang"). */
export type Reply = { status: number; body?: string } | "hang";

export interface RunningReceiver {
  url: string;
  /** Every request, in arrival order. */
  received: ReceivedWebhook[];
  /** How many requests carried each X-LeadLex-Delivery-ID. */
  countsById(): Map<string, number>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1 that records each request and answers as `reply` says (by arrival index), once
 * the reply is known: a promise holds the answer back until the test settles it.
 */
export async function startReceiver(
  reply: (request: ReceivedWebhook, index: number) => Reply | Promise<Reply> = () => ({ status: 200, body: "ok" }),
): Promise<RunningReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      void Promise.resolve(reply(request, received.push(request) - 1)).then((answer) => {
        if (answer === "hang") return;
        res.writeHead(answer.status, { "Content-Type": "text/plain" }).end(answer.body ?? "");
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
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
