// What the gateway does with hostile input besides refusing it (issue 17): an error quotes a bounded excerpt of
// the input, never all of it; a body that is not UTF-8 is refused; several Authorization headers are refused;
// and a request head over the limit of `npm start`'s front gets the contract's envelope.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXCERPT_MAX_CHARS, EXCERPT_MAX_FIELDS } from "@shared/http/excerpt.ts";
import { type Front, MAX_HEAD_BYTES, startFront } from "@scripts/local/front.ts";
import { freePort } from "@scripts/local/ports.ts";
import { expectError, REQUEST_ID } from "../support/assertions.ts";
import { db } from "../support/fixtures.ts";
import { call, gatewaySession } from "../support/gateway.ts";

const s = gatewaySession();

/**
 * One request with its head exactly as given (`headers` as raw name/value pairs, so a name may repeat), on a
 * connection of its own, answered as status, headers and parsed body.
 */
function rawRequest(url: string, method: string, headers: string[], body = "") {
  // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
  return new Promise<{ status: number; headers: Headers; body: any; text: string }>((resolve, reject) => {
    // Node adds no Host to a raw header list, and a server refuses a request without one.
    const head = ["Host", new URL(url).host, ...headers, "Connection", "close"];
    const req = httpRequest(url, { method, headers: head, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        resolve({ status: res.statusCode!, headers: responseHeaders, body: text ? JSON.parse(text) : undefined, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function campaignNames(workspaceId: string): Promise<string[]> {
  return (await db()<{ name: string }[]>`
    select name from public.campaigns where workspace_id = ${workspaceId} order by created_at`).map((r) => r.name);
}

describe("errors quote bounded excerpts of the input", () => {
  it("a megabyte of unknown events comes back as a few short names, once per place, not the megabyte", async () => {
    const events = Array.from({ length: 9_000 }, (_, i) => `bogus.${i}.${"x".repeat(100)}`);
    const res = await call(`${s.gateway.url}/v1/webhooks`, {
      method: "POST",
      key: s.tenant.key,
      body: { url: "https://93.184.215.14/hook", events },
    });
    const error = expectError(res, 400, "invalid_events");
    expect(error.message).toContain(`"${events[0].slice(0, EXCERPT_MAX_CHARS - 1)}…"`);
    expect(error.message).toContain("and 8995 more");
    expect(error.message).not.toContain(events[5].slice(0, 10));
    expect(error.details).toEqual({ fields: { events: error.message } });
    expect(res.text.length).toBeLessThan(2_000);
  });

  it("unknown fields: at most EXCERPT_MAX_FIELDS are named, each name cut to an excerpt", async () => {
    const body: Record<string, unknown> = { name: "fields" };
    for (let i = 0; i < 500; i++) body[`${i}-${"k".repeat(500)}`] = i;
    const res = await call(`${s.gateway.url}/v1/campaigns`, { method: "POST", key: s.tenant.key, body });
    const error = expectError(res, 400, "validation_error");
    const fields = Object.keys(error.details!.fields as object);
    expect(fields).toHaveLength(EXCERPT_MAX_FIELDS);
    for (const field of fields) expect(field.length).toBeLessThanOrEqual(EXCERPT_MAX_CHARS);
    expect(res.text.length).toBeLessThan(4_000);
  });
});

describe("bodies must be UTF-8", () => {
  it("400 invalid_body for bytes that are not UTF-8, and nothing is stored with replacement characters", async () => {
    const bad = [
      Buffer.from([...Buffer.from('{"name":"caf'), 0xe9, ...Buffer.from('"}')]), // Latin-1 é
      Buffer.from([...Buffer.from('{"name":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]), // an encoded surrogate
      Buffer.from([...Buffer.from('{"name":"'), 0xf0, 0x9f, ...Buffer.from('"}')]), // a truncated sequence
    ];
    for (const bytes of bad) {
      const res = await call(`${s.gateway.url}/v1/campaigns`, {
        method: "POST",
        key: s.tenant.key,
        rawBody: bytes,
        headers: { "Content-Type": "application/json" },
      });
      expect(expectError(res, 400, "invalid_body").message).toBe("Request body is not valid UTF-8");
    }
    expect(await campaignNames(s.tenant.workspaceId)).not.toContainEqual(expect.stringContaining("\ufffd"));
    // Valid UTF-8 beyond ASCII is fine.
    const ok = await call(`${s.gateway.url}/v1/campaigns`, {
      method: "POST",
      key: s.tenant.key,
      body: { name: "café ☕" },
    });
    expect(ok.status).toBe(201);
  });
});

describe("several Authorization headers", () => {
  let front: Front;
  let frontUrl: string;
  beforeAll(async () => {
    const gateway = new URL(s.gateway.url);
    const port = await freePort();
    front = await startFront(port, Number(gateway.port));
    frontUrl = `http://127.0.0.1:${port}${gateway.pathname}`;
  });
  afterAll(() => front?.close());

  it("401 missing_auth saying so, whichever comes first, straight to the gateway and through npm start's front", async () => {
    const weak = `Bearer ${s.tenant.key.slice(0, -1)}${s.tenant.key.endsWith("a") ? "b" : "a"}`;
    for (const base of [s.gateway.url, frontUrl]) {
      for (const pair of [[`Bearer ${s.tenant.key}`, weak], [weak, `Bearer ${s.tenant.key}`]]) {
        const res = await rawRequest(`${base}/v1/campaigns`, "GET", [
          "Authorization",
          pair[0],
          "Authorization",
          pair[1],
        ]);
        const error = expectError(res, 401, "missing_auth");
        expect(error.message).toMatch(/^More than one Authorization header/);
      }
      // One header still works through either, and a body goes through the front as sent, with its length or chunked.
      expect((await rawRequest(`${base}/v1/campaigns`, "GET", ["Authorization", `Bearer ${s.tenant.key}`])).status)
        .toBe(200);
      for (const framing of [["Content-Length", "15"], ["Transfer-Encoding", "chunked"]]) {
        const created = await rawRequest(`${base}/v1/campaigns`, "POST", [
          "Authorization",
          `Bearer ${s.tenant.key}`,
          "Content-Type",
          "application/json",
          ...framing,
        ], '{"name":"sent"}');
        expect(created.status, created.text).toBe(201);
      }
    }
  });

  it("a request head over the front's limit: 431 request_header_fields_too_large in the envelope, with a request id", async () => {
    const res = await rawRequest(`${frontUrl}/v1/campaigns`, "GET", [
      "Authorization",
      `Bearer ${s.tenant.key}`,
      "X-Padding",
      "p".repeat(MAX_HEAD_BYTES),
    ]);
    expect(res.status).toBe(431);
    expect(res.body).toEqual({
      error: {
        code: "request_header_fields_too_large",
        message: `The request head exceeds ${MAX_HEAD_BYTES / 1024} KiB`,
      },
    });
    expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    // Just under the limit goes through.
    const fits = await rawRequest(`${frontUrl}/v1/campaigns`, "GET", [
      "Authorization",
      `Bearer ${s.tenant.key}`,
      "X-Padding",
      "p".repeat(MAX_HEAD_BYTES - 1024),
    ]);
    expect(fits.status).toBe(200);
  });
});
