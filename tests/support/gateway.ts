import { type ServerType, serve } from "@hono/node-server";
import { lookup } from "node:dns/promises";
import type { AddressInfo } from "node:net";
import { createGatewayApp } from "../../functions/api-gateway/app.ts";
import type { Database } from "../../functions/_shared/db/database.ts";
import { createPostgresDatabase } from "../../functions/_shared/db/postgres-database.ts";
import type { GatewayServices, LogLine } from "../../functions/_shared/http/context.ts";
import { databaseUrl } from "./fixtures.ts";

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
export async function startGateway(overrides: Partial<GatewayServices> & { db?: Database } = {}): Promise<RunningGateway> {
  const ownDb = overrides.db ? undefined : createPostgresDatabase(databaseUrl(), { maxConnections: 20 });
  const state = { logs: [] as LogLine[], kicks: 0 };
  const app = createGatewayApp({
    db: ownDb ?? overrides.db!,
    log: (line) => state.logs.push(line),
    kickDispatcher: () => state.kicks++,
    allowPrivateWebhookUrls: false,
    resolveHost: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
    ...overrides,
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
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

/** fetch with a bearer key and, when a body is given, JSON encoding. */
export async function call(
  url: string,
  init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key) headers.Authorization = `Bearer ${init.key}`;
  if (init.body !== undefined) headers["Content-Type"] ??= "application/json";
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}
