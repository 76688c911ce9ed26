import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import type { Database } from "@shared/db/database.ts";
import { nodeConnect, nodeResolveHost } from "@shared/runtime/node.ts";
import type { LogLine } from "@shared/runtime/config.ts";
import type { DrainSettings, DrainSummary } from "@shared/webhooks/drain.ts";
import { createDispatcherApp } from "@dispatcher/app.ts";
import { drainSettingsFromEnv } from "@dispatcher/services.ts";

export interface Kick {
  status: number;
  /** The drain this kick handed to waitUntil: its summary, or null when it failed. */
  drained: Promise<DrainSummary | null>;
}

export interface RunningDispatcher {
  /** Base URL of the function, e.g. http://127.0.0.1:PORT/functions/v1/webhook-dispatcher */
  url: string;
  secret: string | undefined;
  logs: LogLine[];
  /** One authorised POST, as pg_cron, the gateway or the local ticker sends it; it must answer 202. */
  kick(): Promise<Kick>;
  /** kick(), then the summary of the drain it started or joined. */
  drain(): Promise<DrainSummary>;
  /** Resolves once every drain handed to waitUntil has ended, including those started by the dispatcher itself. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The dispatcher app behind a real HTTP server on loopback. Settings start from the environment defaults with
 * WEBHOOK_ALLOW_PRIVATE_URLS=1 (receivers listen on 127.0.0.1) and take `settings` on top. Its waitUntil keeps
 * what it is handed, in order, so a test can wait for the drain a kick started; kicks should be sent one at a time
 * for that order to match. The dispatcher's own follow-up kicks are real POSTs to this server.
 */
export async function startDispatcher(options: {
  db: Database;
  secret?: string;
  env?: Record<string, string>;
  settings?: Partial<DrainSettings>;
}): Promise<RunningDispatcher> {
  const logs: LogLine[] = [];
  const handed: Promise<unknown>[] = [];
  const secret = "secret" in options ? options.secret : `dispatch_${crypto.randomUUID()}`;
  let url = "";
  const post = () => fetch(url, { method: "POST", headers: { Authorization: `Bearer ${secret}` } });
  const app = createDispatcherApp({
    db: options.db,
    log: (line) => logs.push(line),
    secret,
    settings: {
      ...drainSettingsFromEnv({ WEBHOOK_ALLOW_PRIVATE_URLS: "1", ...options.env }, {
        resolveHost: nodeResolveHost,
        connect: nodeConnect,
      }),
      ...options.settings,
    },
    waitUntil: (promise) => handed.push(promise),
    kickAgain: () => handed.push(post().then((res) => res.body?.cancel(), () => {})),
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/functions/v1/webhook-dispatcher`;

  const kick = async (): Promise<Kick> => {
    const index = handed.length;
    const res = await post();
    const body = await res.json();
    if (res.status !== 202) throw new Error(`dispatcher answered ${res.status}: ${JSON.stringify(body)}`);
    if (handed.length <= index) throw new Error("the dispatcher answered without handing a drain to waitUntil");
    return { status: res.status, drained: handed[index] as Promise<DrainSummary | null> };
  };
  const settled = async () => {
    for (let seen = 0; seen < handed.length;) {
      seen = handed.length;
      await Promise.allSettled(handed);
    }
  };
  return {
    url,
    secret,
    logs,
    kick,
    drain: async () => {
      const summary = await (await kick()).drained;
      if (!summary) throw new Error(`the drain failed: ${JSON.stringify(logs.at(-1))}`);
      return summary;
    },
    settled,
    close: async () => {
      await settled();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
