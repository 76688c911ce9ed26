// One HTTP/1.1 POST to an address chosen beforehand. `fetch` resolves the host name again when it connects, so a
// name that answered a public address to the URL check could answer 127.0.0.1 to the connection (DNS rebinding).
// Here the caller resolves once, checks every address, and the connection goes to a checked one; the host name is
// kept for TLS (SNI and certificate verification) and the Host header. The runtimes differ only in how they open
// the connection, so that is injected (runtime/deno.ts, runtime/node.ts) and this module runs on both.

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

/** Opens a TCP (and, with `tls`, TLS) connection to exactly `target.address`. */
export type Connect = (target: ConnectTarget) => Promise<Connection>;

/** The receiver spoke something that is not HTTP/1.x: an http_error, like any other bad answer. */
export class MalformedResponseError extends Error {}

const HEAD_LIMIT = 64 * 1024;

/** Rejects with the signal's reason once it aborts; the work it races cannot be cancelled itself. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    work.then(resolve, reject);
  });
}
const CRLF = "\r\n";
const encoder = new TextEncoder();
// A response head is bytes; latin1 maps each to one character, whatever the receiver sends.
const headDecoder = new TextDecoder("latin1");

/** Reads from a connection through one growing buffer: `pull` appends what arrives, `take` removes from the front, `until` reads up to a delimiter. */
class Input {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  buffer = new Uint8Array(0);
  ended = false;

  constructor(readable: ReadableStream<Uint8Array>) {
    this.#reader = readable.getReader();
  }

  async pull(): Promise<boolean> {
    if (this.ended) return false;
    const { done, value } = await this.#reader.read();
    if (done) {
      this.ended = true;
      return false;
    }
    const joined = new Uint8Array(this.buffer.length + value.length);
    joined.set(this.buffer);
    joined.set(value, this.buffer.length);
    this.buffer = joined;
    return true;
  }

  take(n: number): Uint8Array {
    const taken = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return taken;
  }

  /** Bytes up to (not including) the next `delimiter`, which is consumed; undefined at the end or past `limit`. */
  async until(delimiter: string, limit: number): Promise<string | undefined> {
    const bytes = encoder.encode(delimiter);
    for (;;) {
      const at = indexOf(this.buffer, bytes);
      if (at >= 0) {
        const text = headDecoder.decode(this.take(at));
        this.take(bytes.length);
        return text;
      }
      if (this.buffer.length > limit || !(await this.pull())) return undefined;
    }
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

async function readHead(input: Input): Promise<ResponseHead> {
  const head = await input.until(CRLF + CRLF, HEAD_LIMIT);
  if (head === undefined) throw new MalformedResponseError("no complete HTTP response head");
  const [statusLine, ...lines] = head.split(CRLF);
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (!status) throw new MalformedResponseError("not an HTTP/1.x status line");
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(status[1]), headers };
}

/** Up to `limit` bytes of the body, de-chunked when it is chunked; never waits for more than that. */
async function readBodyPrefix(input: Input, head: ResponseHead, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  /** Takes up to `n` body bytes, pulling as needed; fewer only at the end of the stream. */
  const take = async (n: number) => {
    while (input.buffer.length < n && (await input.pull()));
    const bytes = input.take(Math.min(n, input.buffer.length));
    parts.push(bytes);
    size += bytes.length;
    return bytes.length;
  };
  if (/\bchunked\b/i.test(head.headers.get("transfer-encoding") ?? "")) {
    while (size < limit) {
      const sizeLine = await input.until(CRLF, 1024);
      const chunk = sizeLine === undefined ? 0 : parseInt(sizeLine.split(";")[0], 16);
      if (!(chunk > 0)) break;
      if ((await take(Math.min(chunk, limit - size))) < chunk) break; // the limit or the end of the stream
      await input.until(CRLF, 1024);
    }
  } else {
    const declared = head.headers.has("content-length") ? Number(head.headers.get("content-length")) : Infinity;
    await take(Math.min(limit, declared));
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

function closeQuietly(connection: Connection): void {
  try {
    connection.close();
  } catch {
    // already closed by the peer or by the reader
  }
}

/**
 * POSTs `body` to `url` over a connection to `address`, and reads the status and the first `bodyLimit` bytes of
 * the answer, and its Retry-After. Redirects are answers like any other (not followed). Aborting `signal` closes the connection.
 */
export async function postToAddress(
  url: URL,
  address: string,
  request: { headers: Record<string, string>; body: string; bodyLimit: number; signal: AbortSignal },
  connect: Connect,
): Promise<{ status: number; retryAfter: string | null; body: Uint8Array }> {
  const tls = url.protocol === "https:";
  const opening = connect({
    address,
    port: Number(url.port || (tls ? 443 : 80)),
    tls,
    serverName: url.hostname.replace(/^\[|\]$/g, ""),
  });
  // A connection that opens only after the deadline is closed at once.
  opening.then((late) => request.signal.aborted && closeQuietly(late), () => {});
  const connection = await untilAborted(opening, request.signal);
  const close = () => closeQuietly(connection);
  if (request.signal.aborted) close();
  request.signal.addEventListener("abort", close, { once: true });
  try {
    const body = encoder.encode(request.body);
    const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
    for (const [name, value] of Object.entries(request.headers)) lines.push(`${name}: ${value}`);
    lines.push(`Content-Length: ${body.length}`, "Connection: close", "", "");
    const head = encoder.encode(lines.join(CRLF));
    const writer = connection.writable.getWriter();
    await writer.write(head);
    await writer.write(body);
    writer.releaseLock();

    const input = new Input(connection.readable);
    let response = await readHead(input);
    // Interim answers (100 Continue and the like) precede the real one.
    while (response.status >= 100 && response.status < 200) response = await readHead(input);
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after") ?? null,
      body: await readBodyPrefix(input, response, request.bodyLimit),
    };
  } finally {
    request.signal.removeEventListener("abort", close);
    close();
  }
}
