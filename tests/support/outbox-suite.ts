import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import type { GatewayServices } from "@gateway/context.ts";
import type { Permission } from "@shared/auth/permissions.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { startDispatcher } from "./dispatcher.ts";
import { call, type RunningGateway, startGateway } from "./gateway.ts";
import { createPrivateDatabase, type PrivateDatabase } from "./private-database.ts";
import { type Reply, startReceiver } from "./webhook-receiver.ts";

export interface OutboxSuite {
  pdb: PrivateDatabase;
  gatewayDb: PostgresDatabase;
  dispatcherDb: PostgresDatabase;
  gateway: RunningGateway;
  /** Closes `thing` after the current test. */
  tracked<T extends { close(): Promise<void> }>(thing: Promise<T>): Promise<T>;
  receiver(
    reply?: (request: { body: string }, index: number) => Reply | Promise<Reply>,
  ): ReturnType<typeof startReceiver>;
  dispatcher(options?: Omit<Parameters<typeof startDispatcher>[0], "db">): ReturnType<typeof startDispatcher>;
  /** A new workspace with an unmetered key, and `api` calling the gateway's /v1 with it. */
  tenant(permissions?: Permission[]): Promise<SuiteTenant>;
}

export interface SuiteTenant {
  workspaceId: string;
  api(path: string, init?: Parameters<typeof call>[1]): ReturnType<typeof call>;
  /** Registers an endpoint through POST /v1/webhooks (campaign.created unless `events` says otherwise). */
  hook(url: string, events?: string[]): Promise<{ id: string; secret: string } & Record<string, unknown>>;
  /** Creates a campaign through POST /v1/campaigns. */
  campaign(name?: string): Promise<void>;
}

/**
 * Registers the hooks of a suite that drains the whole outbox: a database of its own (see private-database.ts),
 * a gateway and a dispatcher pool on it, what a test starts closed after it, and an empty queue for the next test
 * whatever retries the last one left scheduled. The fields are set once the suite's beforeAll has run.
 */
export function outboxSuite(gatewayOverrides: Partial<GatewayServices> = {}): OutboxSuite {
  const running: { close(): Promise<void> }[] = [];
  const suite = {} as OutboxSuite;
  suite.tracked = async (thing) => {
    const started = await thing;
    running.push(started);
    return started;
  };
  suite.receiver = (reply) => suite.tracked(startReceiver(reply));
  suite.dispatcher = (options = {}) => suite.tracked(startDispatcher({ db: suite.dispatcherDb, ...options }));
  suite.tenant = async (permissions = ["campaigns:write", "webhooks:read", "webhooks:write"]) => {
    const workspace = await createWorkspace(suite.pdb.sql, { name: "outbox suite", plan: "org" });
    const { key } = await createApiKey(suite.pdb.sql, { workspaceId: workspace.id, permissions, tier: "unmetered" });
    const api: SuiteTenant["api"] = (path, init = {}) => call(`${suite.gateway.url}/v1${path}`, { key, ...init });
    return {
      workspaceId: workspace.id,
      api,
      hook: async (url, events = ["campaign.created"]) => {
        const res = await api("/webhooks", { method: "POST", body: { url, events } });
        expect(res.status, res.text).toBe(201);
        return res.body.data.webhook;
      },
      campaign: async (name = "Spring launch") => {
        const res = await api("/campaigns", { method: "POST", body: { name } });
        expect(res.status, res.text).toBe(201);
      },
    };
  };

  beforeAll(async () => {
    suite.pdb = await createPrivateDatabase();
    suite.gatewayDb = createPostgresDatabase(suite.pdb.url, { maxConnections: 20 });
    suite.dispatcherDb = createPostgresDatabase(suite.pdb.url);
    suite.gateway = await startGateway({ db: suite.gatewayDb, ...gatewayOverrides });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.close()));
    await suite.pdb.sql`update public.webhook_deliveries set status = 'cancelled' where status = 'pending'`;
  });
  afterAll(async () => {
    await suite.gateway?.close();
    await Promise.all([suite.gatewayDb?.close(), suite.dispatcherDb?.close()]);
    await suite.pdb?.drop();
  });
  return suite;
}
