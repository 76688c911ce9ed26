// The delivery's HTTP/1.x response reader (functions/_shared/webhooks/http-response.ts), fuzzed: however a valid
// response is split across reads it parses to the same status, body prefix and reusability; whatever bytes arrive,
// endlessly repeated, it ends with a response or its own error, having read no more bytes, and no more times, than
// its caps allow.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ByteSource,
  MalformedResponseError,
  readResponse,
  type ResponseLimits,
} from "@shared/webhooks/http-response.ts";

const LIMITS: ResponseLimits = {
  headBytes: 16 * 1024,
  headers: 100,
  reads: 64,
  interim: 5,
  bodyPrefix: 2048,
  bodyBytes: 64 * 1024,
  reuse: true,
};
const encoder = new TextEncoder();

/** Hands out `bytes` cut at `cuts`, then (when `endless`) the same again forever; counts what it handed out. */
function source(
  bytes: Uint8Array,
  cuts: number[],
  endless = false,
): ByteSource & { handed: number; last: number; reads: number } {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces = [0, ...points, bytes.length].flatMap((from, i, all) =>
    i + 1 < all.length && all[i + 1] > from ? [bytes.subarray(from, all[i + 1])] : []
  );
  let next = 0;
  const counter = {
    handed: 0,
    last: 0,
    reads: 0,
    read: () => {
      counter.reads++;
      if (next === pieces.length && endless && pieces.length > 0) next = 0;
      const piece = pieces[next++];
      counter.last = piece?.length ?? 0;
      counter.handed += counter.last;
      return Promise.resolve(piece);
    },
  };
  return counter;
}

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)
  .filter((name) => !["content-length", "transfer-encoding", "connection", "retry-after"].includes(name.toLowerCase()));
const fieldValue = fc.stringMatching(/^[!-~]([ !-~]{0,40}[!-~])?$/);

const validResponse = fc.record({
  interim: fc.array(fc.constantFrom(100, 102, 103), { maxLength: LIMITS.interim }),
  status: fc.oneof(fc.integer({ min: 200, max: 599 }), fc.constantFrom(204, 304)),
  minor: fc.constantFrom(0, 1),
  fields: fc.array(fc.tuple(token, fieldValue), { maxLength: 20 }),
  retryAfter: fc.option(fc.constantFrom("120", "Wed, 21 Oct 2015 07:28:00 GMT"), { nil: undefined }),
  body: fc.uint8Array({ maxLength: 5000 }),
  framing: fc.constantFrom("length", "chunked", "close"),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 10 }),
  closes: fc.boolean(),
  reuse: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 40 }),
});

type Valid = typeof validResponse extends fc.Arbitrary<infer T> ? T : never;

function serialize(r: Valid): { bytes: Uint8Array; body: Uint8Array } {
  const noBody = r.status === 204 || r.status === 304;
  const head = [
    ...r.interim.map((status) => `HTTP/1.1 ${status} Interim\r\n\r\n`),
    `HTTP/1.${r.minor} ${r.status} Some Reason\r\n`,
  ];
  for (const [name, value] of r.fields) head.push(`${name}: ${value}\r\n`);
  if (r.retryAfter) head.push(`Retry-After: ${r.retryAfter}\r\n`);
  if (r.closes) head.push("Connection: close\r\n");
  if (!noBody && r.framing === "length") head.push(`Content-Length: ${r.body.length}\r\n`);
  if (!noBody && r.framing === "chunked") head.push("Transfer-Encoding: chunked\r\n");
  head.push("\r\n");
  const parts = [encoder.encode(head.join(""))];
  if (!noBody && r.framing !== "chunked") parts.push(r.body);
  if (!noBody && r.framing === "chunked") {
    for (let at = 0, i = 0; at < r.body.length; i++) {
      const size = Math.min(r.chunkSizes[i % r.chunkSizes.length], r.body.length - at);
      parts.push(encoder.encode(`${size.toString(16)}\r\n`), r.body.subarray(at, at + size), encoder.encode("\r\n"));
      at += size;
    }
    parts.push(encoder.encode("0\r\n\r\n"));
  }
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  return { bytes, body: noBody ? new Uint8Array(0) : r.body };
}

/** A source that hands out `text` in one read and then never ends: a read past it would wait forever. */
function openEnded(text: string): ByteSource {
  let sent = false;
  return { read: () => (sent ? new Promise(() => {}) : ((sent = true), Promise.resolve(encoder.encode(text)))) };
}

describe("the delivery's response reader", () => {
  it.each([
    ["101 header fields", `HTTP/1.1 200 OK\r\n${"X-A: 1\r\n".repeat(101)}\r\n`, "more than 100 header fields"],
    [
      "six interim answers",
      `${"HTTP/1.1 100 Continue\r\n\r\n".repeat(6)}HTTP/1.1 200 OK\r\n\r\n`,
      "more than 5 interim",
    ],
    ["a head past 16 KB", `HTTP/1.1 200 OK\r\nX-Pad: ${"p".repeat(16 * 1024)}\r\n\r\n`, "no line end within"],
    ["an invalid Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 12, 13\r\n\r\n", "invalid Content-Length"],
    ["a line that is not a field", "HTTP/1.1 200 OK\r\nnot a field\r\n\r\n", "not a field"],
    ["HTTP/2 bytes", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "not an HTTP/1.x"],
    ["bytes that cannot begin a status line, the head unfinished", "\u0000garbage", "not an HTTP/1.x response"],
  ])("refuses %s as malformed", async (_, text, message) => {
    await expect(readResponse(openEnded(text), LIMITS)).rejects.toThrow(message);
    await expect(readResponse(openEnded(text), LIMITS)).rejects.toBeInstanceOf(MalformedResponseError);
  });

  it.each([
    ["204", "HTTP/1.1 204 No Content\r\n\r\n", 204],
    ["304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 120\r\n\r\n", 304],
    ["Content-Length: 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200],
    [
      "five interim answers, then 204",
      `${"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n".repeat(5)}HTTP/1.1 204 No Content\r\n\r\n`,
      204,
    ],
  ])("a response without a body (%s) ends at its head, though the connection stays open", async (_, text, status) => {
    expect(await readResponse(openEnded(text), LIMITS)).toEqual({
      status,
      retryAfter: null,
      body: new Uint8Array(0),
      reusable: true,
    });
  });

  it("parses a valid response to the same result however it is split across reads", async () => {
    await fc.assert(
      fc.asyncProperty(validResponse, async (r) => {
        const { bytes, body } = serialize(r);
        const response = await readResponse(source(bytes, r.cuts), { ...LIMITS, reuse: r.reuse });
        const bounded = r.status === 204 || r.status === 304 || r.framing !== "close";
        expect(response).toEqual({
          status: r.status,
          retryAfter: r.retryAfter ?? null,
          body: body.slice(0, LIMITS.bodyPrefix),
          reusable: r.reuse && r.minor === 1 && !r.closes && bounded,
        });
      }),
      { numRuns: 300 },
    );
  });

  it("ends on any bytes, repeated forever, with a response or its own error, within its caps", async () => {
    // Small caps, so that garbage reaches them; the chunk size line (1 KiB) and its CRLFs are the reader's own.
    const limits: ResponseLimits = {
      headBytes: 256,
      headers: 8,
      reads: 16,
      interim: 2,
      bodyPrefix: 32,
      bodyBytes: 512,
      reuse: true,
    };
    const bound = (limits.interim + 1) * (limits.headBytes + 4) + limits.bodyBytes + 1026 + 2;
    const starts = [
      "",
      "HTTP/1.1 200 OK\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.0 200 OK\r\nContent-Length: 99999\r\n\r\n",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...starts),
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 600 }),
          fc.stringMatching(/^[0-9a-fA-F;\r\n :HTP\/.]{1,60}$/).map((s) => encoder.encode(s)),
        ),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        async (start, garbage, cuts, reuse) => {
          const bytes = new Uint8Array([...encoder.encode(start), ...garbage]);
          const input = source(bytes, cuts, true);
          const outcome = await readResponse(input, { ...limits, reuse }).catch((error: unknown) => error);
          expect(input.reads).toBeLessThanOrEqual(limits.reads);
          if (!(outcome instanceof MalformedResponseError)) {
            expect(outcome).toMatchObject({ status: expect.any(Number), reusable: expect.any(Boolean) });
          }
          expect(input.handed - input.last).toBeLessThanOrEqual(bound);
        },
      ),
      { numRuns: 500 },
    );
  });
});
