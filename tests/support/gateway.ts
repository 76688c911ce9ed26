import { afterAll, beforeAll } from "vitest";
import { serve, type ServerType } from "@hono/node-server";
import { lookup } from "node:dns/promises";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { createGatewayApp } from "@gateway/app.ts";
import type { Database } from "@shared/db/database.ts";
import { createPostgresDatabase } from "@shared/db/postgres-database.ts";
import type { GatewayServices } from "@gateway/context.ts";
import type { LogLine } from "@shared/runtime/config.ts";
import { checkConformance, countValidated } from "./conformance.ts";
import { databaseUrl, newTenant, type TestTenant } from "./fixtures.ts";

/** Origins of the gateways this worker started: every response from them is checked against the document. */
const gatewayOrigins = new Set<string>();

function checked<R extends { status: number; headers: Headers; body: unknown; text: string }>(
  method: string,
  url: string,
  res: R,
): R {
  if (gatewayOrigins.has(new URL(url).origin) || new URL(url).pathname.includes("/api-gateway")) {
    checkConformance(method, url, res);
    countValidated();
  }
  return res;
}

export interface RunningGateway {
  /** Base URL of the function, e.g. http://127.0.0.1:PORT/functions/v1/api-gateway */
  url: string;
  logs: LogLine[];
  kicks: number;
  close(): Promise<void>;
}

/**
 * The gateway app behind a real HTTP server on loopback, talking to the test Postgres through the same
 * direct-driver seam `npm start` uses. `db` replaces the seam (say, with one pointed at a dead port).
 */
export async function startGateway(
  overrides: Partial<GatewayServices> & { db?: Database } = {},
): Promise<RunningGateway> {
  const ownDb = overrides.db ? undefined : createPostgresDatabase(databaseUrl(), { maxConnections: 20 });
  const state = { logs: [] as LogLine[], kicks: 0 };
  const app = createGatewayApp({
    db: ownDb ?? overrides.db!,
    log: (line) => state.logs.push(line),
    // Tests find the lines of their own requests, 401s and 404s included; the cap has tests of its own
    // (tests/gateway/request-log.test.ts).
    unattributedLogLines: Number.MAX_SAFE_INTEGER,
    kickDispatcher: () => state.kicks++,
    allowPrivateWebhookUrls: false,
    resolveHost: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
    ...overrides,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  gatewayOrigins.add(`http://127.0.0.1:${port}`);
  return {
    url: `http://127.0.0.1:${port}/functions/v1/api-gateway`,
    get logs() {
      return state.logs;
    },
    get kicks() {
      return state.kicks;
    },
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await ownDb?.close();
    },
  };
}

/**
 * fetch with a bearer key and, when a body is given, JSON encoding; the response is checked against the
 * OpenAPI document (conformance.ts). `rawBody` is sent as it is, with no
 * Content-Type added (a ReadableStream goes out chunked, without Content-Length).
 */
export async function call(
  url: string,
  init: { method?: string; key?: string; body?: unknown; rawBody?: BodyInit; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key) headers.Authorization = `Bearer ${init.key}`;
  if (init.body !== undefined) headers["Content-Type"] ??= "application/json";
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers,
    body: init.rawBody ??
      (init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body)),
    ...(init.rawBody instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  const text = await res.text();
  return checked(init.method ?? "GET", url, {
    status: res.status,
    headers: res.headers,
    body: text ? JSON.parse(text) : undefined,
    text,
  });
}

/**
 * One request on a connection of its own (node:http, `Connection: close`), for bodies the server may answer
 * before reading them in full, such as an oversized upload: the server then closes that connection, which must
 * not be one a later request reuses. With `chunked`, the body goes out in 64 KiB chunks without Content-Length.
 */
export async function callOnOwnConnection(
  url: string,
  init: { method: string; key?: string; headers?: Record<string, string>; body: Uint8Array; chunked?: boolean },
) {
  const headers: Record<string, string> = { ...init.headers, Connection: "close" };
  if (init.key) headers.Authorization = `Bearer ${init.key}`;
  if (!init.chunked) headers["Content-Length"] = String(init.body.length);
  // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
  return await new Promise<{ status: number; headers: Headers; body: any; text: string }>((resolve, reject) => {
    let responded = false;
    const req = httpRequest(url, { method: init.method, headers, agent: false }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
        }
        const body = text ? JSON.parse(text) : undefined;
        try {
          resolve(checked(init.method, url, { status: res.statusCode!, headers: responseHeaders, body, text }));
        } catch (error) {
          reject(error);
        }
      });
      res.on("error", reject);
    });
    // The server may close the connection while the rest of an oversized body is still being written; what
    // counts is the response it sent first.
    req.on("error", (error) => (responded ? undefined : reject(error)));
    for (let i = 0; i < init.body.length; i += 64 * 1024) req.write(init.body.subarray(i, i + 64 * 1024));
    req.end();
  });
}

export interface GatewaySession {
  gateway: RunningGateway;
  tenant: TestTenant;
}

/**
 * A gateway (with `overrides` for its services) and a tenant for the tests of the enclosing file or describe
 * block: started before them, stopped after them. Read the fields inside tests and hooks, once they are filled.
 */
export function gatewaySession(overrides: Partial<GatewayServices> = {}): GatewaySession {
  const session = {} as GatewaySession;
  beforeAll(async () => {
    session.gateway = await startGateway(overrides);
    session.tenant = await newTenant();
  });
  afterAll(() => session.gateway.close());
  return session;
}
