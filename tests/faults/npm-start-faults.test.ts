// Faults injected into a real `npm start` (its own embedded Postgres, the Node front, Deno), black-box, while
// CLIENTS callers create and delete campaigns: Postgres SIGKILLed RUNS times, then the functions process killed
// mid-delivery. What must hold: no request hangs, only 2xx/404/503 answers, no partial write (a campaign is gone
// exactly when its campaign.deleted event exists, with one delivery per subscribed endpoint), and every delivery
// arrives (duplicates allowed, counted and printed). Recovery times and the 503 latencies are printed, not
// asserted: `npm run test:faults` is how the figures in docs/design.md are reproduced.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PERMISSIONS } from "@shared/auth/permissions.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { freePort } from "../support/network.ts";
import { interrupt, npmStart, stackProcess, type StartedStack } from "../support/npm-start.ts";
import { type RunningReceiver, startReceiver } from "../support/webhook-receiver.ts";

const CLIENTS = 16;
const RUNS = 5;
/** No request may take longer: the seam's 5.5 s deadline, with slack for a shared machine. */
const REQUEST_LIMIT_MS = 10_000;
/** A client that got a 503 waits this long before its next request (well under the 1 s Retry-After). */
const CLIENT_PAUSE_MS = 50;

interface Outcome {
  op: "create" | "delete";
  id?: string;
  status: number; // 0: no answer (aborted after REQUEST_LIMIT_MS, or the connection failed)
  startedAt: number;
  endedAt: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

let dataDir: string;
let stack: StartedStack;
let sql: postgres.Sql;
let receivers: RunningReceiver[];
let receiverDelayMs = 0;
// A workspace of the suite's own, with an unmetered key: the load must meet the faults, not the rate limit.
let workspaceId: string;
let key: string;
const outcomes: Outcome[] = [];

// deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
async function send(op: Outcome["op"], method: string, url: string, body?: unknown): Promise<Outcome & { body?: any }> {
  const startedAt = performance.now();
  try {
    const res = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
    });
    const json = await res.json().catch(() => undefined);
    return { op, status: res.status, startedAt, endedAt: performance.now(), body: json };
  } catch {
    return { op, status: 0, startedAt, endedAt: performance.now() };
  }
}

/** One caller: create a campaign, delete it, again and again, until `running()` says stop. */
async function client(running: () => boolean): Promise<void> {
  while (running()) {
    const created = await send("create", "POST", `${stack.gateway}/v1/campaigns`, { name: "fault load" });
    const id = created.body?.data?.campaign?.id as string | undefined;
    outcomes.push({ ...created, id, body: undefined } as Outcome);
    if (created.status !== 201) {
      await pause(CLIENT_PAUSE_MS);
      continue;
    }
    const deleted = await send("delete", "DELETE", `${stack.gateway}/v1/campaigns/${id}`);
    outcomes.push({ ...deleted, id, body: undefined } as Outcome);
    if (deleted.status >= 500) await pause(CLIENT_PAUSE_MS);
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "leadlex-faults-"));
  await chmod(dataDir, 0o755);
  stack = await npmStart({ dataDir, port: await freePort(), pgPort: await freePort() });
  sql = postgres(stack.databaseUrl, { max: 2, backoff: () => 0.1, onnotice: () => {} });
  workspaceId = (await createWorkspace(sql, { name: "fault injection", plan: "org" })).id;
  key = (await createApiKey(sql, { workspaceId, permissions: [...PERMISSIONS], tier: "unmetered" })).key;
  receivers = await Promise.all(
    [0, 1].map(() => startReceiver(async () => (await pause(receiverDelayMs), { status: 200, body: "ok" }))),
  );
  for (const receiver of receivers) {
    const res = await send("create", "POST", `${stack.gateway}/v1/webhooks`, {
      url: receiver.url,
      events: ["campaign.deleted"],
    });
    expect(res.status).toBe(201);
  }
}, 180_000);

afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await Promise.all((receivers ?? []).map((r) => r.close()));
  if (stack?.child.exitCode === null) await interrupt(stack).catch(() => {});
  await rm(dataDir, { recursive: true, force: true });
});

/** No partial write: a created campaign is gone exactly when it has one campaign.deleted event, with a delivery per endpoint. */
async function expectNoPartialWrites() {
  const created = new Set(outcomes.filter((o) => o.op === "create" && o.status === 201).map((o) => o.id!));
  const remaining = new Set((await sql<{ id: string }[]>`
    select id from public.campaigns where workspace_id = ${workspaceId}`).map((r) => r.id));
  const events = await sql<{ campaign_id: string; deliveries: number }[]>`
    select e.data -> 'campaign' ->> 'id' as campaign_id,
           (select count(*)::int from public.webhook_deliveries d where d.event_id = e.id) as deliveries
      from public.webhook_events e
     where e.workspace_id = ${workspaceId} and e.event = 'campaign.deleted'`;
  const deletedEvents = new Map<string, number[]>();
  for (const e of events) deletedEvents.set(e.campaign_id, [...(deletedEvents.get(e.campaign_id) ?? []), e.deliveries]);

  for (const o of outcomes.filter((o) => o.op === "delete" && o.status === 200)) {
    expect(remaining.has(o.id!)).toBe(false);
  }
  const inconsistent = [...created].filter((id) =>
    remaining.has(id)
      ? deletedEvents.has(id)
      : JSON.stringify(deletedEvents.get(id)) !== JSON.stringify([receivers.length])
  );
  expect(inconsistent).toEqual([]);
}

type Delivery = { id: string; url: string; status: string; batch: boolean };

/**
 * How often each delivery reached its receiver, counted once per look. The receivers answer from this process, so
 * counting per delivery (thousands of deliveries times thousands of requests) would block their answers for
 * longer than the dispatcher's 10 s attempt timeout and fail the very deliveries being waited for.
 */
function receivedCounts(): (d: { id: string; url: string }) => number {
  const byUrl = new Map(receivers.map((r) => [r.url, r.countsById()]));
  return (d) => byUrl.get(d.url)!.get(d.id) ?? 0;
}
const duplicates = (list: Delivery[]) => {
  const timesReceived = receivedCounts();
  return list.reduce((n, d) => n + timesReceived(d) - 1, 0);
};

/**
 * Waits until every delivery of the suite's workspace was received and recorded as delivered (the ones in flight
 * when the dispatcher died are sent again when their 30 s lease runs out), and asserts it. `since` marks a batch.
 */
async function everyDeliveryArrives(since = new Date(0)): Promise<Delivery[]> {
  const deliveries = async (): Promise<Delivery[]> => [
    ...await sql<Delivery[]>`
    select d.id, w.url, d.status, d.created_at >= ${since} as batch
      from public.webhook_deliveries d join public.webhook_endpoints w on w.id = d.endpoint_id
     where d.workspace_id = ${workspaceId}`,
  ];
  const deadline = Date.now() + 150_000;
  let rows = await deliveries();
  let timesReceived = receivedCounts();
  while (rows.some((d) => d.status !== "success" || timesReceived(d) === 0) && Date.now() < deadline) {
    await pause(500);
    rows = await deliveries();
    timesReceived = receivedCounts();
  }
  expect(rows.filter((d) => timesReceived(d) === 0).map((d) => d.id)).toEqual([]);
  const unfinished = rows.filter((d) => d.status !== "success").map((d) => d.id);
  const attempts = await sql`
    select delivery_id, attempt, status, status_code, error, duration_ms, created_at from public.webhook_attempts
     where delivery_id = any(${unfinished}::uuid[]) order by delivery_id, attempt`;
  expect(unfinished, `not recorded as delivered; their attempts: ${JSON.stringify(attempts)}`).toEqual([]);
  return rows;
}

describe("npm start under faults", () => {
  it(
    `Postgres SIGKILLed ${RUNS} times under ${CLIENTS} clients: it comes back by itself, with nothing half done`,
    async () => {
      let running = true;
      const clients = Array.from({ length: CLIENTS }, () => client(() => running));
      const recoveries: number[] = [];
      const outageAnswers: number[] = [];
      try {
        for (let run = 0; run < RUNS; run++) {
          // Steady load first: each run is an incident of its own, not a crash loop.
          await pause(6_000);
          const pid = await stackProcess(stack, /\/bin\/postgres -D /);
          const killedAt = performance.now();
          process.kill(pid, "SIGKILL");
          // Back = a 2xx to a request sent after the outage was first seen.
          let back: Outcome | undefined;
          const deadline = killedAt + 30_000;
          while (!back && performance.now() < deadline) {
            await pause(10);
            const firstFailure = outcomes.find((o) => o.startedAt >= killedAt && o.status >= 500);
            if (firstFailure) back = outcomes.find((o) => o.startedAt >= firstFailure.startedAt && o.status < 300);
          }
          expect(back, `run ${run + 1}: no 2xx within 30 s of the kill`).toBeDefined();
          recoveries.push(back!.endedAt - killedAt);
          outageAnswers.push(
            ...outcomes
              .filter((o) => o.status === 503 && o.startedAt >= killedAt && o.endedAt <= back!.endedAt)
              .map((o) => o.endedAt - o.startedAt),
          );
        }
        await pause(1_000);
      } finally {
        running = false;
        await Promise.all(clients);
      }

      console.log(
        `Postgres SIGKILL under ${CLIENTS} clients, kill -> first 200 again (ms), ${RUNS} runs: ` +
          recoveries.map((ms) => ms.toFixed(0)).join(", "),
      );
      console.log(
        `503s during the outages: ${outageAnswers.length}, p50 ${percentile(outageAnswers, 50).toFixed(1)} ms, ` +
          `p95 ${percentile(outageAnswers, 95).toFixed(1)} ms, max ${Math.max(...outageAnswers).toFixed(1)} ms`,
      );
      const counts: Record<number, number> = {};
      for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
      const slowest = Math.max(...outcomes.map((o) => o.endedAt - o.startedAt));
      console.log(`answers: ${JSON.stringify(counts)}; slowest ${slowest.toFixed(0)} ms`);

      expect(stack.output().match(/Postgres ended \(signal SIGKILL\); restarting in 250 ms/g)).toHaveLength(RUNS);
      expect(outcomes.filter((o) => ![200, 201, 404, 503].includes(o.status))).toEqual([]);
      expect(outcomes.filter((o) => o.op === "delete" && o.status === 200).length).toBeGreaterThan(0);
      await expectNoPartialWrites();
      const all = await everyDeliveryArrives();
      console.log(
        `Postgres kills: ${all.length} of ${all.length} deliveries received, ${duplicates(all)} duplicates ` +
          `(attempts whose result could not be recorded during an outage are sent again)`,
      );
    },
    300_000,
  );

  it("the functions process killed mid-delivery: it is restarted and every delivery arrives", async () => {
    receiverDelayMs = 200;
    const deliveredBefore = receivers.reduce((n, r) => n + r.received.length, 0);
    const [{ batchStart }] = await sql<{ batchStart: Date }[]>`select now() as "batchStart"`;
    for (let i = 0; i < 60; i++) {
      const created = await send("create", "POST", `${stack.gateway}/v1/campaigns`, { name: `batch ${i}` });
      expect(created.status).toBe(201);
      const id = created.body.data.campaign.id;
      outcomes.push({ ...created, id, body: undefined } as Outcome);
      const deleted = await send("delete", "DELETE", `${stack.gateway}/v1/campaigns/${id}`);
      expect(deleted.status).toBe(200);
      outcomes.push({ ...deleted, id, body: undefined } as Outcome);
    }
    // Mid-delivery: some of the batch has arrived, the rest is in flight or waiting.
    const received = () => receivers.reduce((n, r) => n + r.received.length, 0);
    const midDeadline = Date.now() + 60_000;
    while (received() < deliveredBefore + 20 && Date.now() < midDeadline) await pause(5);
    expect(received(), "20 deliveries of the batch arrive before the kill").toBeGreaterThanOrEqual(
      deliveredBefore + 20,
    );
    process.kill(await stackProcess(stack, /functions-server\.ts/), "SIGKILL");

    const batch = (await everyDeliveryArrives(batchStart)).filter((d) => d.batch);
    console.log(
      `functions killed mid-delivery: ${batch.length} of ${batch.length} deliveries received, ` +
        `${duplicates(batch)} duplicates (sent again with the same delivery id: in flight at the kill)`,
    );
    expect(stack.output()).toMatch(/functions ended \(signal SIGKILL\); restarting/);
    await expectNoPartialWrites();
  }, 240_000);
});
