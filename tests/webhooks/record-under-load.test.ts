import { afterAll, beforeAll, expect, it } from "vitest";
import { createPostgresDatabase } from "@shared/db/postgres-database.ts";
import { createWorkspace } from "@scripts/admin/provisioning.ts";
import { startDispatcher } from "../support/dispatcher.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";
import { startReceiver } from "../support/webhook-receiver.ts";

// The dispatcher drains the whole outbox, so this suite has a database of its own.
let pdb: PrivateDatabase;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pdb = await createPrivateDatabase();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await pdb?.drop();
});

/** Holds `for update` on the endpoint's delivery rows in a transaction of its own until `release`. */
async function lockDeliveries(endpointId: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: (pid: number) => void;
  const isLocked = new Promise<number>((resolve) => (locked = resolve));
  const transaction = pdb.sql.begin(async (tx) => {
    await tx`select 1 from public.webhook_deliveries where endpoint_id = ${endpointId} for update`;
    const [{ pid }] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
    locked(pid);
    await released;
  });
  const pid = await Promise.race([isLocked, transaction.then(() => -1)]);
  const waiters = async () => {
    const [{ count }] = await pdb.sql<{ count: number }[]>`
      select count(*)::int as count from pg_stat_activity where ${pid}::int = any (pg_blocking_pids(pid))`;
    return count;
  };
  return {
    untilWaitedFor: async () => {
      const deadline = Date.now() + 20_000;
      while ((await waiters()) < 1) {
        if (Date.now() > deadline) throw new Error("no record call ever waited for the locked deliveries");
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    release: async () => {
      release();
      await transaction;
    },
  };
}

it("records every attempt it sent though its record calls found no database connection free for a while", async () => {
  const workspace = await createWorkspace(pdb.sql, { name: "record under load", plan: "org" });
  let arrived!: () => void;
  const allArrived = new Promise<void>((resolve) => (arrived = resolve));
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  const receiver = await startReceiver(async (_request, index) => {
    if (index === 3) arrived();
    await answered;
    return { status: 200, body: "ok" };
  });
  closers.push(() => receiver.close());
  const [endpoint] = await pdb.sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspace.id}, ${receiver.url}, ${["campaign.created"]}, 'whsec_cmVjb3JkLXVuZGVyLWxvYWQtcmVjb3JkLXVuZA==')
    returning id`;
  await pdb.sql`
    select public.enqueue_webhook_event(${workspace.id}, 'campaign.created', json_build_object('n', g))
      from generate_series(1, 4) as g`;

  // One connection, as a dispatcher whose pool is busy has: while one record call holds it, the others wait for it
  // at the seam, and a call that waits longer than the seam allows is refused without being sent.
  const db = createPostgresDatabase(pdb.url, { maxConnections: 1 });
  closers.push(() => db.close());
  const dispatcher = await startDispatcher({ db });
  closers.push(() => dispatcher.close());

  const { drained } = await dispatcher.kick();
  // All four attempts are on the wire; their record calls will queue behind the first, which the lock stops.
  await allArrived;
  const lock = await lockDeliveries(endpoint.id);
  answer();
  await lock.untilWaitedFor();
  // Long enough for the queued calls' admission waits to run out, more than once.
  await new Promise((r) => setTimeout(r, 1_500));
  await lock.release();
  const summary = await drained;

  expect(summary).toMatchObject({ claimed: 4, delivered: 4, unrecorded: 0, stale: 0, lost: 0 });
  expect([...receiver.countsById().values()]).toEqual([1, 1, 1, 1]);
  const deliveries = await pdb.sql`
    select status, attempts, lease_expires_at from public.webhook_deliveries where endpoint_id = ${endpoint.id}`;
  expect(deliveries).toEqual(Array(4).fill({ status: "success", attempts: 1, lease_expires_at: null }));
  const attempts = await pdb.sql`
    select attempt, status, error from public.webhook_attempts where endpoint_id = ${endpoint.id}`;
  expect(attempts).toEqual(Array(4).fill({ attempt: 1, status: "success", error: null }));
});
