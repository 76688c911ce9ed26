// The local HTTP front of `npm start`, in the place Supabase's API gateway takes in front of the edge runtime:
// it forwards every request to the functions process and owns what a public listener must, which Deno.serve does
// not offer (its options have no header or request timeouts; denoland/deno#3515): a client has HEADERS_TIMEOUT_MS
// to send a complete request head, so a slow-headers (slowloris) client cannot hold connections open. Node's HTTP
// server enforces that per request, keep-alive connections included, so no parsing of our own is needed.
import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ApiError, unavailableError } from "@shared/http/errors.ts";
import { newRequestId } from "@shared/http/request-id.ts";
import { JSON_CONTENT_TYPE } from "@shared/http/respond.ts";

export const HEADERS_TIMEOUT_MS = 5_000;
// A whole request (head and body) must arrive within this; far above any honest upload to this API.
const REQUEST_TIMEOUT_MS = 30_000;

/** Node's limit on a request head (its default, --max-http-header-size): the limit `npm start` has. */
export const MAX_HEAD_BYTES = 16 * 1024;

/**
 * What Node answers a request it cannot parse, as it does without a listener, except that a head over the limit
 * gets the contract's envelope and a request id: it is the one refusal a well-meaning client can run into.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex) {
  if (socket.writable) {
    if (error.code === "HPE_HEADER_OVERFLOW") {
      const body = JSON.stringify(
        new ApiError(
          "request_header_fields_too_large",
          `The request head exceeds ${MAX_HEAD_BYTES / 1024} KiB`,
        ).body,
      );
      socket.write([
        "HTTP/1.1 431 Request Header Fields Too Large",
        `Content-Type: ${JSON_CONTENT_TYPE}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        `X-Request-ID: ${newRequestId()}`,
        "Connection: close",
        "",
        body,
      ].join("\r\n"));
    } else {
      const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    }
  }
  socket.destroy(error);
}

export interface Front {
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port` and forwards to the functions on 127.0.0.1:`upstreamPort`. */
export async function startFront(port: number, upstreamPort: number): Promise<Front> {
  const agent = new Agent({ keepAlive: true });
  const server: Server = createServer({
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // How often Node checks those two timeouts (default 30 s, which would let a slow client stay that long).
    connectionsCheckingInterval: 500,
    maxHeaderSize: MAX_HEAD_BYTES,
  }, (req, res) => forward(req, res));
  server.on("clientError", answerClientError);

  function forward(req: IncomingMessage, res: ServerResponse) {
    const upstream = request({
      agent,
      host: "127.0.0.1",
      port: upstreamPort,
      method: req.method,
      path: req.url,
      // Raw, so a repeated header reaches the gateway as sent: `req.headers` keeps only the first Authorization,
      // and the gateway must see two to refuse them. The client's Host is among them: Node must not add its own.
      headers: req.rawHeaders,
      setHost: false,
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
    upstream.on("error", () => {
      // The functions process is down (being restarted by npm start) or dropped the request.
      if (res.headersSent) return res.destroy();
      const error = unavailableError();
      res.writeHead(error.status, { "Content-Type": JSON_CONTENT_TYPE, ...error.headers });
      res.end(JSON.stringify(error.body));
    });
    req.pipe(upstream);
    // The client went away before its answer was complete: stop the work upstream too.
    res.on("close", () => res.writableFinished || upstream.destroy());
  }

  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return {
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}
