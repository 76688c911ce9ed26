// Reads one HTTP/1.x response from a byte stream within fixed bounds, in time linear in the bytes received: the
// head is searched only from where the previous search stopped, bytes are appended to one buffer that grows by
// doubling, and body bytes beyond the kept prefix are counted, not copied. A receiver can make it wait (until the
// caller's deadline ends the stream) but cannot make it read or work past its caps. The number of reads is capped
// too: each costs tens of microseconds in the runtime whatever it carries, so a head dribbled a byte at a time
// would otherwise cost CPU in proportion to the deadline.

/** Where the bytes come from; undefined once the stream has ended (or the caller cut it at the deadline). */
export interface ByteSource {
  read(): Promise<Uint8Array | undefined>;
}

export interface ResponseLimits {
  /** Bytes of one response head, status line to blank line. */
  headBytes: number;
  headers: number;
  /** Reads the whole response may take (head and body), however few bytes each brings. */
  reads: number;
  /** Interim (1xx) responses before the final one. */
  interim: number;
  /** Body bytes kept for the caller. */
  bodyPrefix: number;
  /** Bytes read past the head (chunk framing included): for the prefix, and with `reuse` to reach the body's end. */
  bodyBytes: number;
  /** Read the whole body when it fits in `bodyBytes`, so the connection can carry another request. */
  reuse: boolean;
}

export interface HttpResponse {
  status: number;
  retryAfter: string | null;
  /** The first `bodyPrefix` bytes of the body (de-chunked). */
  body: Uint8Array;
  /** Read to its end, nothing after it, and the receiver keeps the connection open: it may carry another request. */
  reusable: boolean;
}

/** The receiver did not speak HTTP/1.x within the bounds: recorded as `malformed_response`. */
export class MalformedResponseError extends Error {}

const CR = 13;
const LF = 10;
const STATUS_PREFIX = new TextEncoder().encode("HTTP/1.");
// A response head is bytes; latin1 maps each to one character, whatever the receiver sends.
const latin1 = new TextDecoder("latin1");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CHUNK_LINE_LIMIT = 1024;

/** One growing buffer over the source: `pull` appends what arrives, reads take from the front. */
class Input {
  #buffer = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Bytes taken from the front so far. */
  consumed = 0;
  #ended = false;
  #reads = 0;

  constructor(private readonly source: ByteSource, private readonly maxReads: number) {}

  get size(): number {
    return this.#end - this.#start;
  }

  async pull(): Promise<boolean> {
    if (this.#ended) return false;
    if (this.#reads++ === this.maxReads) {
      throw new MalformedResponseError(`the response took more than ${this.maxReads} reads`);
    }
    const chunk = await this.source.read();
    if (chunk === undefined) {
      this.#ended = true;
      return false;
    }
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end + chunk.length > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#end + chunk.length));
      grown.set(this.#buffer.subarray(0, this.#end));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
    return true;
  }

  /** A view of the next `n` buffered bytes, taken off the front; valid until the next pull. */
  take(n: number): Uint8Array {
    const bytes = this.#buffer.subarray(this.#start, this.#start + n);
    this.#start += n;
    this.consumed += n;
    return bytes;
  }

  /** Whether the buffered bytes, as far as they go, begin like `prefix`. */
  startsLike(prefix: Uint8Array): boolean {
    const n = Math.min(prefix.length, this.size);
    for (let i = 0; i < n; i++) if (this.#buffer[this.#start + i] !== prefix[i]) return false;
    return true;
  }

  /**
   * The text up to the first CRLF (or CRLFCRLF with `blankLine`), which is consumed too. Throws when it is not
   * within `limit` bytes or the stream ends first; each byte is searched once, however it was split.
   */
  async line(limit: number, blankLine: boolean, check?: () => void): Promise<string> {
    const length = blankLine ? 4 : 2;
    let from = this.#start;
    for (;;) {
      // Only where a whole delimiter could sit: not past the limit nor into the free end of the buffer.
      const view = this.#buffer.subarray(
        0,
        Math.max(0, Math.min(this.#end, this.#start + limit + length) - length + 1),
      );
      for (let at = view.indexOf(CR, from); at >= 0; at = view.indexOf(CR, at + 1)) {
        if (this.#buffer[at + 1] !== LF) continue;
        if (blankLine && (this.#buffer[at + 2] !== CR || this.#buffer[at + 3] !== LF)) continue;
        const text = latin1.decode(this.take(at - this.#start));
        this.take(length);
        return text;
      }
      check?.();
      if (this.size >= limit + length) throw new MalformedResponseError(`no line end within ${limit} bytes`);
      const searched = this.#end - this.#start - (length - 1);
      if (!(await this.pull())) throw new MalformedResponseError("the connection ended inside a response head");
      from = this.#start + Math.max(0, searched);
    }
  }
}

interface Head {
  status: number;
  minor: number;
  headers: Map<string, string>;
}

async function readHead(input: Input, limits: ResponseLimits): Promise<Head> {
  // Bytes that cannot begin a status line end the attempt at once instead of at the head limit or the deadline.
  const text = await input.line(limits.headBytes, true, () => {
    if (!input.startsLike(STATUS_PREFIX)) throw new MalformedResponseError("not an HTTP/1.x response");
  });
  const [statusLine, ...lines] = text.split("\r\n");
  const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine);
  if (!status) throw new MalformedResponseError("not an HTTP/1.x status line");
  if (lines.length > limits.headers) throw new MalformedResponseError(`more than ${limits.headers} header fields`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) throw new MalformedResponseError("a header line that is not a field");
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { status: Number(status[2]), minor: Number(status[1]), headers };
}

type Framing = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

/** How the body ends (RFC 9112, section 6.3), for the answer to a POST. */
function framingOf(head: Head): Framing {
  if (head.status < 200 || head.status === 204 || head.status === 304) return { kind: "none" };
  const transfer = head.headers.get("transfer-encoding");
  if (transfer !== undefined) return /(?:^|,)\s*chunked\s*$/i.test(transfer) ? { kind: "chunked" } : { kind: "close" };
  const length = head.headers.get("content-length");
  if (length === undefined) return { kind: "close" };
  if (!/^\d{1,15}$/.test(length)) throw new MalformedResponseError("an invalid Content-Length");
  return Number(length) === 0 ? { kind: "none" } : { kind: "length", length: Number(length) };
}

/**
 * Reads the body as far as needed: the kept prefix, or (to reuse the connection) to its end within `budget`
 * bytes. Whether it reached the end; the status is already decided, so a body that stops or breaks only ends it.
 */
async function readBody(input: Input, framing: Framing, keep: (bytes: Uint8Array) => boolean, budget: number) {
  const limit = input.consumed + budget;
  /** Passes up to `n` body bytes to `keep`; false when the stream ended, `keep` has enough, or past the budget. */
  const content = async (n: number): Promise<boolean> => {
    while (n > 0) {
      if (input.consumed >= limit || (input.size === 0 && !(await input.pull()))) return false;
      const bytes = input.take(Math.min(n, input.size, limit - input.consumed));
      n -= bytes.length;
      if (!keep(bytes)) return false;
    }
    return true;
  };
  try {
    switch (framing.kind) {
      case "none":
        return true;
      case "length":
        return await content(framing.length);
      case "close":
        await content(Infinity);
        return false;
      case "chunked":
        for (;;) {
          const size = /^[0-9a-fA-F]{1,12}(?=$|[ \t;])/.exec(await input.line(CHUNK_LINE_LIMIT, false));
          if (!size || input.consumed >= limit) return false;
          const length = parseInt(size[0], 16);
          if (length === 0) break;
          if (!(await content(length)) || (await input.line(0, false)) !== "") return false;
        }
        // Trailer fields, then the blank line that ends the message.
        while ((await input.line(CHUNK_LINE_LIMIT, false)) !== "") if (input.consumed >= limit) return false;
        return true;
    }
  } catch {
    return false; // a broken body after the head: the response stands, the connection is not reused
  }
}

/** Reads the response to one request: interim answers skipped (up to the cap), the final head, a body prefix. */
export async function readResponse(source: ByteSource, limits: ResponseLimits): Promise<HttpResponse> {
  const input = new Input(source, limits.reads);
  let head = await readHead(input, limits);
  for (let interim = 0; head.status < 200 && head.status !== 101; interim++) {
    if (interim === limits.interim) throw new MalformedResponseError(`more than ${limits.interim} interim responses`);
    head = await readHead(input, limits);
  }
  const framing = framingOf(head);
  const keepsAlive = head.minor === 1 && !/(?:^|,)\s*close\s*(?:,|$)/i.test(head.headers.get("connection") ?? "");
  const reuse = limits.reuse && keepsAlive && head.status !== 101 && framing.kind !== "close" &&
    (framing.kind !== "length" || framing.length <= limits.bodyBytes);
  const prefix = new Uint8Array(limits.bodyPrefix);
  let kept = 0;
  /** Keeps what fits in the prefix; past it, reading goes on only to reuse the connection. */
  const keep = (bytes: Uint8Array) => {
    const room = Math.min(bytes.length, prefix.length - kept);
    prefix.set(bytes.subarray(0, room), kept);
    kept += room;
    return reuse || kept < prefix.length;
  };
  const complete = await readBody(input, framing, keep, limits.bodyBytes);
  return {
    status: head.status,
    retryAfter: head.headers.get("retry-after") ?? null,
    body: prefix.slice(0, kept),
    reusable: reuse && complete && input.size === 0,
  };
}
