// One HTTP/1.1 POST to an address chosen beforehand. `fetch` resolves the host name again when it connects, so a
// name that answered a public address to the URL check could answer 127.0.0.1 to the connection (DNS rebinding).
// Here the caller resolves once, checks every address, and the connection goes to a checked one; the host name is
// kept for TLS (SNI and certificate verification) and the Host header. The runtimes differ only in how they open
// the connection, so that is injected (runtime/deno-connect.ts, runtime/node.ts) and this module runs on both.
// The answer is read by our own bounded reader (http-response.ts) because Deno's fetch, the only HTTP client on
// the edge runtime, cannot be given the connection or the address (see runtime/deno-connect.ts); a client that
// dials the name itself would reopen the rebinding hole, so the parser comes with the pinned connection.
import { type ConnectionPool, Wire } from "./connection-pool.ts";
import { type HttpResponse, readResponse } from "./http-response.ts";

/** A byte stream both ways, as Deno.Conn and Node's Duplex.toWeb give it. */
export interface Connection {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  close(): void;
}

export interface ConnectTarget {
  /** The checked IP address to connect to; never resolved again. */
  address: string;
  port: number;
  tls: boolean;
  /** The URL's host name: TLS server name and the name the certificate must carry. */
  serverName: string;
}

/**
 * Opens a TCP (and, with `tls`, TLS) connection to exactly `target.address`; a failed handshake is a TlsError.
 * Aborting `signal` (the attempt's deadline) abandons a connection still being opened.
 */
export type Connect = (target: ConnectTarget, signal: AbortSignal) => Promise<Connection>;

/** The TCP connection opened but TLS failed (certificate, name, protocol): recorded as `tls_error`. */
export class TlsError extends Error {}

// Per response: the head, its header fields, reads, interim answers before it, and the body read past the head
// (to reach its end and reuse the connection; only the first `bodyLimit` bytes are kept). A head arrives in a
// read or two; 64 leaves room for TLS records and slow networks while keeping a dribbling receiver's cost small.
const HEAD_BYTES = 16 * 1024;
const HEADER_FIELDS = 100;
const READS = 64;
const INTERIM_RESPONSES = 5;
const BODY_BYTES = 64 * 1024;

/** Rejects with the signal's reason once it aborts; the work it races cannot be cancelled itself. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) reject(signal.reason); // an aborted signal fires no more events
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    work.then(resolve, reject);
  });
}
const encoder = new TextEncoder();

async function open(target: ConnectTarget, connect: Connect, signal: AbortSignal): Promise<Wire> {
  const opening = connect(target, signal);
  // A connection that opens only after the deadline is closed at once.
  opening.then((late) => signal.aborted && late.close(), () => {});
  return new Wire(await untilAborted(opening, signal));
}

/** A wire taken from the pool that the receiver had closed meanwhile: the request goes out again on a new one. */
class StaleWire extends Error {}

/** Sends `message` and reads the answer; the deadline closes the wire, which ends the read where it stands. */
async function exchange(
  wire: Wire,
  message: Uint8Array,
  options: { bodyLimit: number; signal: AbortSignal; pool?: ConnectionPool; target: ConnectTarget; reused: boolean },
): Promise<HttpResponse> {
  const { signal, pool } = options;
  const stop = () => wire.close();
  signal.addEventListener("abort", stop, { once: true });
  let response: HttpResponse;
  try {
    await untilAborted(wire.write(message), signal);
    response = await readResponse(wire, {
      headBytes: HEAD_BYTES,
      headers: HEADER_FIELDS,
      reads: READS,
      interim: INTERIM_RESPONSES,
      bodyPrefix: options.bodyLimit,
      bodyBytes: BODY_BYTES,
      reuse: pool !== undefined,
    });
  } catch (error) {
    wire.close();
    throw options.reused && wire.received === 0 && !signal.aborted ? new StaleWire() : error;
  } finally {
    signal.removeEventListener("abort", stop);
  }
  if (response.reusable && pool && !signal.aborted) pool.put(options.target, wire);
  else wire.close();
  return response;
}

/**
 * POSTs `body` to `url` over a connection to the first of `addresses` that accepts one (a refused or unreachable
 * address is skipped; a TLS failure is not), and reads the status, the first `bodyLimit` bytes of the answer and
 * its Retry-After. Redirects are answers like any other (not followed). With a `pool`, a kept-alive connection to
 * the same address is used when there is one, and the connection goes back to it when the receiver allows.
 * Aborting `signal` closes the connection.
 */
export async function postToAddress(
  url: URL,
  addresses: string[],
  request: {
    headers: Record<string, string>;
    body: string;
    bodyLimit: number;
    signal: AbortSignal;
    pool?: ConnectionPool;
  },
  connect: Connect,
): Promise<HttpResponse> {
  const tls = url.protocol === "https:";
  const body = encoder.encode(request.body);
  const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
  for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
  lines.push(`Content-Length: ${body.length}`, ...(request.pool ? [] : ["Connection: close"]), "", "");
  const head = encoder.encode(lines.join("\r\n"));
  const message = new Uint8Array(head.length + body.length);
  message.set(head);
  message.set(body, head.length);

  let refused: unknown;
  for (const address of addresses) {
    const target = {
      address,
      port: Number(url.port || (tls ? 443 : 80)),
      tls,
      serverName: url.hostname.replace(/^\[|\]$/g, ""),
    };
    const options = { ...request, target };
    const pooled = request.pool?.take(target);
    if (pooled) {
      try {
        return await exchange(pooled, message, { ...options, reused: true });
      } catch (error) {
        if (!(error instanceof StaleWire)) throw error;
      }
    }
    let wire: Wire;
    try {
      wire = await open(target, connect, request.signal);
    } catch (error) {
      if (request.signal.aborted || error instanceof TlsError) throw error;
      refused = error;
      continue;
    }
    return await exchange(wire, message, { ...options, reused: false });
  }
  throw refused;
}
