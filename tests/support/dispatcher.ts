import { type ServerType, serve } from "@hono/node-server";
import { lookup } from "node:dns/promises";
import type { AddressInfo } from "node:net";
import type { Database } from "../../functions/_shared/db/database.ts";
import type { LogLine } from "../../functions/_shared/runtime/config.ts";
import type { DrainSettings, DrainSummary } from "../../functions/_shared/webhooks/drain.ts";
import { createDispatcherApp } from "../../functions/webhook-dispatcher/app.ts";
import { drainSettingsFromEnv } from "../../functions/webhook-dispatcher/services.ts";

export interface RunningDispatcher {
  /** Base URL of the function, e.g. http://127.0.0.1:PORT/functions/v1/webhook-dispatcher */
  url: string;
  secret: string | undefined;
  logs: LogLine[];
  /** One authorised POST, as pg_cron or the local ticker sends it; the drain's summary. */
  drain(): Promise<DrainSummary>;
  close(): Promise<void>;
}

export const nodeResolveHost = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

/**
 * The dispatcher app behind a real HTTP server on loopback. Settings start from the environment defaults with
 * WEBHOOK_ALLOW_PRIVATE_URLS=1 (receivers listen on 127.0.0.1) and take `settings` on top.
 */
export async function startDispatcher(options: {
  db: Database;
  secret?: string;
  env?: Record<string, string>;
  settings?: Partial<DrainSettings>;
}): Promise<RunningDispatcher> {
  const logs: LogLine[] = [];
  const secret = "secret" in options ? options.secret : `dispatch_${crypto.randomUUID()}`;
  const app = createDispatcherApp({
    db: options.db,
    log: (line) => logs.push(line),
    secret,
    settings: {
      ...drainSettingsFromEnv({ WEBHOOK_ALLOW_PRIVATE_URLS: "1", ...options.env }, nodeResolveHost),
      ...options.settings,
    },
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1/webhook-dispatcher`;
  return {
    url,
    secret,
    logs,
    drain: async () => {
      const res = await fetch(url, { method: "POST", headers: { Authorization: `Bearer ${secret}` } });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`dispatcher answered ${res.status}: ${JSON.stringify(body)}`);
      return body.data as DrainSummary;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
