import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { pruneLimitsFromEnv, pruneWebhookHistory, startRetentionTicker } from "@scripts/local/retention.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";

// Retention deletes across the whole outbox, so this suite has a database of its own. Age is arranged by writing
// rows with past timestamps, not by waiting.
let pdb: PrivateDatabase;
let gatewayDb: PostgresDatabase;
let gateway: RunningGateway;

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  gatewayDb = createPostgresDatabase(pdb.url);
  gateway = await startGateway({ db: gatewayDb });
});
afterAll(async () => {
  await gateway?.close();
  await gatewayDb?.close();
  await pdb?.drop();
});

/** A workspace with one endpoint and `n` deliveries of one event each, all `age` old, with one attempt each. */
async function history(age: string, status: "success" | "failed" | "pending", n: number) {
  const workspace = await createWorkspace(pdb.sql, { name: `retention ${age} ${status}`, plan: "pro" });
  const key = await createApiKey(pdb.sql, { workspaceId: workspace.id, permissions: ["webhooks:read"] });
  const [endpoint] = await pdb.sql`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspace.id}, ${`https://hooks.example.com/${crypto.randomUUID()}`}, ${["campaign.created"]}, 'whsec_x')
    returning id`;
  await pdb.sql`
    with ev as (
      insert into public.webhook_events (workspace_id, event, data, occurred_at)
      select ${workspace.id}, 'campaign.created', '{}', now() - ${age}::interval from generate_series(1, ${n})
      returning id
    ), d as (
      insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts, created_at)
      select ${workspace.id}, ev.id, ${endpoint.id}, ${status}, 1, now() - ${age}::interval from ev
      returning id
    )
    insert into public.webhook_attempts (delivery_id, endpoint_id, attempt, status, status_code, duration_ms, created_at)
    select d.id, ${endpoint.id}, 1, ${status === "success" ? "success" : "failed"}, 500, 3, now() - ${age}::interval
      from d`;
  const logs = async () => {
    const res = await call(`${gateway.url}/v1/webhooks/${endpoint.id}/logs?per_page=100`, { key: key.key });
    expect(res.status).toBe(200);
    return res.body.meta.total as number;
  };
  const counts = async () => {
    const [row] = await pdb.sql`
      select (select count(*)::int from public.webhook_deliveries where endpoint_id = ${endpoint.id}) as deliveries,
             (select count(*)::int from public.webhook_attempts where endpoint_id = ${endpoint.id}) as attempts,
             (select count(*)::int from public.webhook_events where workspace_id = ${workspace.id}) as events`;
    return row;
  };
  return { logs, counts };
}

it("deletes events, deliveries and attempts past the retention in bounded batches, never a pending delivery", async () => {
  const old = await history("31 days", "failed", 7);
  const stuck = await history("40 days", "pending", 2);
  const recent = await history("29 days", "success", 3);
  expect(await old.logs()).toBe(7);

  // 3 rows per statement, one round a run: each run takes at most 3 of each kind.
  const small = { keepDays: 30, batch: 3, rounds: 1 };
  expect(await pruneWebhookHistory(pdb.sql, small)).toEqual({ attempts: 3, deliveries: 3, events: 3 });
  expect(await old.counts()).toEqual({ attempts: 4, deliveries: 4, events: 4 });
  expect(await pruneWebhookHistory(pdb.sql, { ...small, rounds: 5 })).toEqual({
    attempts: 4,
    deliveries: 4,
    events: 4,
  });
  expect(await pruneWebhookHistory(pdb.sql, small)).toEqual({ attempts: 0, deliveries: 0, events: 0 });

  expect(await old.counts()).toEqual({ attempts: 0, deliveries: 0, events: 0 });
  expect(await old.logs()).toBe(0);
  expect(await stuck.counts()).toEqual({ attempts: 2, deliveries: 2, events: 2 });
  expect(await recent.counts()).toEqual({ attempts: 3, deliveries: 3, events: 3 });
  expect(await recent.logs()).toBe(3);
});

it("takes a delivery's attempts with it, counting those it deleted itself, and keeps a pending delivery's", async () => {
  // Three attempts a delivery, on both sides of the cutoff: retention goes by the delivery's age, and an attempt
  // is never older than its delivery.
  const workspace = await createWorkspace(pdb.sql, { name: "retention retried", plan: "pro" });
  const [endpoint] = await pdb.sql`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspace.id}, ${`https://hooks.example.com/${crypto.randomUUID()}`}, ${["campaign.created"]}, 'whsec_x')
    returning id`;
  for (const status of ["failed", "failed", "pending"]) {
    await pdb.sql`
      with ev as (
        insert into public.webhook_events (workspace_id, event, data, occurred_at)
        values (${workspace.id}, 'campaign.created', '{}', now() - interval '40 days') returning id
      ), d as (
        insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts, created_at)
        select ${workspace.id}, ev.id, ${endpoint.id}, ${status}, 3, now() - interval '40 days' from ev returning id
      )
      insert into public.webhook_attempts (delivery_id, endpoint_id, attempt, status, status_code, duration_ms, created_at)
      select d.id, ${endpoint.id}, k, 'failed', 500, 3, now() - interval '1 day' * (41 - 6 * k)
        from d, generate_series(1, 3) k`;
  }
  const left = async () => {
    const rows = await pdb.sql<{ status: string; attempts: number }[]>`
      select d.status, (select count(*)::int from public.webhook_attempts a where a.delivery_id = d.id) as attempts
        from public.webhook_deliveries d where d.endpoint_id = ${endpoint.id} order by d.status`;
    return rows.map((r) => `${r.status}:${r.attempts}`);
  };

  // Attempt k is 41 - 6k days old (35, 29, 23): only the first is past 30 days; the other two go with their delivery.
  expect(await pruneWebhookHistory(pdb.sql, { keepDays: 30, batch: 1, rounds: 1 })).toEqual({
    attempts: 1,
    deliveries: 1,
    events: 1,
  });
  expect(await left()).toEqual(["failed:3", "pending:3"]);
  expect(await pruneWebhookHistory(pdb.sql, { keepDays: 30, batch: 10, rounds: 3 })).toEqual({
    attempts: 1,
    deliveries: 1,
    events: 1,
  });
  expect(await left()).toEqual(["pending:3"]);
});

it("gives new deliveries and events time-ordered ids, so that retention's oldest rows lie together", async () => {
  const workspace = await createWorkspace(pdb.sql, { name: "retention ids", plan: "pro" });
  const key = await createApiKey(pdb.sql, {
    workspaceId: workspace.id,
    permissions: ["campaigns:write", "webhooks:read"],
  });
  const [endpoint] = await pdb.sql`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspace.id}, ${`https://hooks.example.com/${crypto.randomUUID()}`}, ${["campaign.created"]}, 'whsec_x')
    returning id`;
  const started = Date.now();
  for (const name of ["first", "second", "third"]) {
    const res = await call(`${gateway.url}/v1/campaigns`, { method: "POST", key: key.key, body: { name } });
    expect(res.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ended = Date.now();
  // UUID version 7: the first 48 bits are the Unix time in milliseconds.
  const millis = (id: string) => parseInt(id.replaceAll("-", "").slice(0, 12), 16);
  const res = await call(`${gateway.url}/v1/webhooks/${endpoint.id}/deliveries`, { key: key.key });
  expect(res.status).toBe(200);
  const deliveries: string[] = res.body.data.deliveries.map((d: { delivery_id: string }) => d.delivery_id).reverse();
  const events = (await pdb.sql<{ id: string }[]>`
    select id from public.webhook_events where workspace_id = ${workspace.id} order by occurred_at`).map((r) => r.id);
  for (const ids of [deliveries, events]) {
    expect(ids).toHaveLength(3);
    for (const id of ids) {
      expect(id[14]).toBe("7");
      expect(millis(id)).toBeGreaterThanOrEqual(started);
      expect(millis(id)).toBeLessThanOrEqual(ended);
    }
    // Written 5 ms apart at least: in the order written, as the index on them holds them.
    expect([...ids].sort()).toEqual(ids);
  }
});

it("keeps 30 days unless WEBHOOK_RETENTION_DAYS says otherwise, in the production job's batches", () => {
  expect(pruneLimitsFromEnv({})).toEqual({ keepDays: 30, batch: 5000, rounds: 4 });
  expect(pruneLimitsFromEnv({ WEBHOOK_RETENTION_DAYS: "7" }).keepDays).toBe(7);
  for (const bad of ["0", "1.5", "x", "-3"]) {
    expect(() => pruneLimitsFromEnv({ WEBHOOK_RETENTION_DAYS: bad }), bad).toThrow(/WEBHOOK_RETENTION_DAYS/);
  }
});

it("the local runner's ticker prunes as soon as it starts", async () => {
  const old = await history("8 days", "success", 2);
  const reports: string[] = [];
  const stop = startRetentionTicker(
    pdb.url,
    pruneLimitsFromEnv({ WEBHOOK_RETENTION_DAYS: "7" }),
    (m) => reports.push(m),
  );
  try {
    await vi.waitFor(async () => expect(await old.counts()).toEqual({ attempts: 0, deliveries: 0, events: 0 }));
  } finally {
    await stop();
  }
  expect(reports).toEqual([expect.stringContaining("webhook history pruned")]);
});
