import { afterAll, beforeAll, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { createWorkspace } from "@scripts/admin/provisioning.ts";
import { type RunningDispatcher, startDispatcher } from "../support/dispatcher.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";
import { type RunningReceiver, startReceiver } from "../support/webhook-receiver.ts";

// Several dispatcher invocations draining one outbox at once, each with its own database pool as separate edge
// workers have. The dispatcher drains the whole outbox, so this suite has a database of its own.
let pdb: PrivateDatabase;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pdb = await createPrivateDatabase();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await pdb?.drop();
});

async function workers(count: number, settings: Parameters<typeof startDispatcher>[0]["settings"]) {
  const started: RunningDispatcher[] = [];
  for (let i = 0; i < count; i++) {
    const db: PostgresDatabase = createPostgresDatabase(pdb.url, { maxConnections: 4 });
    const d = await startDispatcher({ db, env: { WEBHOOK_RETRY_DELAYS: "0,0,0,0,0" }, settings });
    closers.push(() => db.close(), () => d.close());
    started.push(d);
  }
  return started;
}

/** `events` events, each delivered to `endpoints` endpoints of one workspace at `receiver`, through the outbox's SQL. */
async function backlog(receiver: RunningReceiver, events: number, endpoints = 1) {
  const workspace = await createWorkspace(pdb.sql, { name: "scale-out", plan: "org" });
  for (let n = 0; n < endpoints; n++) {
    await pdb.sql`
      insert into public.webhook_endpoints (workspace_id, url, events, secret)
      values (${workspace.id}, ${`${receiver.url}/${n}`}, ${["campaign.created"]},
              'whsec_c2NhbGUtb3V0LXNjYWxlLW91dC1zY2FsZQ==')`;
  }
  await pdb.sql`
    select public.enqueue_webhook_event(${workspace.id}, 'campaign.created', json_build_object('n', g))
      from generate_series(1, ${events}::int) as g`;
  return workspace.id;
}

it("4 dispatchers draining at once under load send no attempt twice, retries included", async () => {
  // Every third delivery fails its first attempt, so the drains also race over retries, not only first attempts.
  const seen = new Set<string>();
  const receiver = await startReceiver(({ body }, index) => {
    const id = JSON.parse(body).delivery_id as string;
    const first = !seen.has(id);
    seen.add(id);
    return first && index % 3 === 0 ? { status: 500 } : { status: 200 };
  });
  closers.push(() => receiver.close());
  // Four endpoints, so that the in-flight limits (4 per endpoint, 16 per workspace) leave work for every drain.
  const workspaceId = await backlog(receiver, 150, 4);
  // Small budgets: each drain hands over to a fresh invocation many times, as on a large backlog in production.
  // The failures can fall on one endpoint in a row; its circuit opening is not what this test is about.
  const four = await workers(4, {
    maxDeliveries: 40,
    concurrency: 8,
    circuit: { after: 1000, baseSeconds: 30, maxSeconds: 3600 },
  });

  for (let round = 0; round < 50; round++) {
    await Promise.all(four.map((d) => d.kick()));
    await Promise.all(four.map((d) => d.settled()));
    const [{ pending }] = await pdb.sql`
      select count(*)::int as pending from public.webhook_deliveries
       where workspace_id = ${workspaceId} and status = 'pending'`;
    if (pending === 0) break;
    await pdb.sql`update public.webhook_deliveries set next_attempt_at = now()
                   where workspace_id = ${workspaceId} and status = 'pending'`;
  }

  const perAttempt = await pdb.sql<{ delivery_id: string; attempt: number; n: number }[]>`
    select delivery_id, attempt, count(*)::int as n from public.webhook_attempts
     where delivery_id in (select id from public.webhook_deliveries where workspace_id = ${workspaceId})
     group by delivery_id, attempt`;
  expect(perAttempt.filter((row) => row.n > 1)).toEqual([]);
  const deliveries = await pdb.sql`
    select status, attempts from public.webhook_deliveries where workspace_id = ${workspaceId}`;
  expect(deliveries).toHaveLength(600);
  expect(deliveries.every((d) => d.status === "success")).toBe(true);
  // Each request the receiver saw is exactly one recorded attempt, and the drains shared the work. Not always all
  // four: the workspace's in-flight limit (16) is less than their 32 slots, so one may find nothing left to claim.
  expect(receiver.received).toHaveLength(perAttempt.length);
  const sentByDelivery = receiver.countsById();
  expect(deliveries.reduce((sum, d) => sum + d.attempts, 0)).toBe(receiver.received.length);
  expect(sentByDelivery.size).toBe(600);
  const claimedBy = four.map((d) =>
    d.logs.filter((l) => l.msg === "webhook drain").reduce((sum, l) => sum + Number(l.claimed), 0)
  );
  expect(claimedBy.filter((n) => n > 0).length, JSON.stringify(claimedBy)).toBeGreaterThanOrEqual(2);
  expect(claimedBy.reduce((a, b) => a + b, 0)).toBe(receiver.received.length);
});

it("the schedule asks for one invocation per 250 due deliveries, at most 4, none when nothing is due", async () => {
  const fanOut = async () => (await pdb.sql<{ n: number }[]>`select public.webhook_dispatch_fan_out(250, 4) as n`)[0].n;
  await pdb.sql`update public.webhook_deliveries set status = 'cancelled' where status = 'pending'`;
  expect(await fanOut()).toBe(0);
  const receiver = await startReceiver();
  closers.push(() => receiver.close());
  const workspaceId = await backlog(receiver, 251);
  expect(await fanOut()).toBe(2);
  // Leased rows are already being drained: they do not count.
  await pdb.sql`update public.webhook_deliveries set lease_expires_at = now() + interval '1 minute'
                 where id in (select id from public.webhook_deliveries where workspace_id = ${workspaceId} limit 2)`;
  expect(await fanOut()).toBe(1);
  await backlog(receiver, 2000);
  expect(await fanOut()).toBe(4);
});
