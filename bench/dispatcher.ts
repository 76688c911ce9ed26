// Webhook dispatcher: drain rate of a queued backlog, and commit-to-receipt latency while writes arrive at a
// steady rate, against a receiver on 127.0.0.1. The dispatcher is driven the way `npm start` drives it (a POST
// every second) plus the kicks the gateway sends after each write that queued a delivery.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import type postgres from "postgres";
import { createTenant } from "./scenarios.ts";
import { type Functions, onCleanup, say, startDispatchers, wasInterrupted } from "./stack.ts";
import { type LatencySummary, summarize } from "./stats.ts";

/** One backlog drained by `dispatchers` concurrent dispatcher processes. */
export interface ScaleOutRow {
  dispatchers: number;
  deliveries: number;
  received: number;
  seconds: number;
  perSecond: number;
  /** Requests the receiver saw more than once for one delivery, and attempt rows sharing (delivery, attempt). */
  duplicateReceipts: number;
  duplicateAttempts: number;
}

export type DispatcherResult =
  | { skipped: string }
  | {
    drain: { deliveries: number; received: number; seconds: number; perSecond: number; latencyMs: LatencySummary };
    scaleOut: ScaleOutRow[];
    steady: {
      rate: number;
      expected: number;
      received: number;
      seconds: number;
      perSecond: number;
      latencyMs: LatencySummary;
    };
    notes: string[];
  };

const DISPATCH_INTERVAL_MS = 1000; // as scripts/start.ts
const WAIT_LIMIT_MS = 60_000;

/** Wall-clock milliseconds with sub-millisecond precision, comparable with Postgres timestamps on this machine. */
const wallNow = () => performance.timeOrigin + performance.now();

interface Receiver {
  url: string;
  /** delivery id -> first receipt time (wall ms). */
  receipts: Map<string, number>;
  duplicates: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receipts = new Map<string, number>();
  const state = { duplicates: 0 };
  const server: Server = createServer((req, res) => {
    const at = wallNow();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let id = req.headers["x-leadlex-delivery-id"] ?? req.headers["webhook-id"];
      if (typeof id !== "string") {
        try {
          id = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { delivery_id?: string }).delivery_id;
        } catch {
          id = undefined;
        }
      }
      if (typeof id === "string") {
        if (receipts.has(id)) state.duplicates++;
        else receipts.set(id, at);
      }
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onCleanup({ name: "webhook receiver", run: close });
  return {
    url: `http://127.0.0.1:${port}/`,
    receipts,
    get duplicates() {
      return state.duplicates;
    },
    close,
  };
}

export function dispatch(functions: Functions): Promise<Response> {
  return kick(functions.dispatcherUrl, functions.dispatcherSecret);
}

function kick(url: string, secret: string): Promise<Response> {
  return fetch(url, { method: "POST", headers: { Authorization: `Bearer ${secret}` } });
}

/** Whether the functions front serves a webhook-dispatcher at all, and whether it accepts our secret. */
async function availability(functions: Functions): Promise<string | null> {
  let res: Response;
  try {
    res = await dispatch(functions);
  } catch (error) {
    return `dispatcher not reachable (${error instanceof Error ? error.message : error})`;
  }
  const text = await res.text();
  if (res.status === 404) {
    return "dispatcher not available (no webhook-dispatcher in scripts/local/functions-server.ts)";
  }
  if (!res.ok) return `dispatcher not available (POST answered ${res.status}: ${text.slice(0, 200)})`;
  return null;
}

/** A workspace with a key that may write campaigns and one endpoint, at `url`, subscribed to their events. */
export async function subscribedTenant(sql: postgres.Sql, url: string) {
  const tenant = await createTenant(sql, {
    name: "bench webhooks",
    plan: "org",
    tier: "unmetered",
    permissions: ["campaigns:read", "campaigns:write"],
  });
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const [endpoint] = await sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${tenant.workspaceId}, ${url}, array['campaign.created', 'campaign.deleted'], ${secret})
    returning id`;
  return { tenant, endpointId: endpoint.id };
}

// A backlog as production has it: spread over many endpoints of several workspaces. Each endpoint holds at most 4
// attempts in flight and each workspace 16 (functions/webhook-dispatcher/services.ts), so one endpoint's backlog
// measures that limit, not the dispatcher.
const BACKLOG_WORKSPACES = 10;
const BACKLOG_ENDPOINTS_PER_WORKSPACE = 4;

/**
 * `count` deliveries queued at once to BACKLOG_WORKSPACES x BACKLOG_ENDPOINTS_PER_WORKSPACE endpoints at `url`;
 * their ids.
 */
export async function spreadBacklog(sql: postgres.Sql, url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const events = Math.ceil(count / (BACKLOG_WORKSPACES * BACKLOG_ENDPOINTS_PER_WORKSPACE));
  for (let w = 0; w < BACKLOG_WORKSPACES; w++) {
    const { tenant, endpointId } = await subscribedTenant(sql, `${url}w${w}/e0`);
    for (let e = 1; e < BACKLOG_ENDPOINTS_PER_WORKSPACE; e++) {
      await sql`insert into public.webhook_endpoints (workspace_id, url, events, secret)
                select workspace_id, ${`${url}w${w}/e${e}`}, events, secret
                  from public.webhook_endpoints where id = ${endpointId}`;
    }
    await queueBacklog(sql, tenant.workspaceId, events);
    ids.push(...(await sql<{ id: string }[]>`
      select id from public.webhook_deliveries where workspace_id = ${tenant.workspaceId}`).map((r) => r.id));
  }
  return ids;
}

/** `count` deliveries committed at once, through the same SQL the RPCs use. */
export async function queueBacklog(sql: postgres.Sql, workspaceId: string, count: number): Promise<void> {
  await sql`
    select public.enqueue_webhook_event(${workspaceId}, 'campaign.deleted',
             json_build_object('campaign', json_build_object('id', gen_random_uuid(), 'name', 'bench ' || g)))
      from generate_series(1, ${count}::int) as g`;
}

/** Polls until every id in `ids` was received, or the limit passes. */
export async function waitForReceipts(receiver: Receiver, ids: string[], limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && !wasInterrupted()) {
    if (ids.every((id) => receiver.receipts.has(id))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** occurred_at (wall ms, microsecond precision) of each delivery's event. */
export async function occurredAt(sql: postgres.Sql, deliveryIds: string[]): Promise<Map<string, number>> {
  const rows = await sql<{ id: string; at: string }[]>`
    select d.id, (extract(epoch from e.occurred_at) * 1000)::text as at
      from public.webhook_deliveries d join public.webhook_events e on e.id = d.event_id
     where d.id = any(${deliveryIds}::uuid[])`;
  return new Map(rows.map((r) => [r.id, Number(r.at)]));
}

function latencies(receiver: Receiver, occurred: Map<string, number>, ids: string[]): number[] {
  const out: number[] = [];
  for (const id of ids) {
    const received = receiver.receipts.get(id);
    const at = occurred.get(id);
    if (received !== undefined && at !== undefined) out.push(received - at);
  }
  return out;
}

/**
 * The drain again, with 1, 2 and 4 dispatcher processes at once (as edge workers the schedule fans out to): each
 * kicked once and then every second, as the cron job posts; each drain that stops on its budget kicks its own
 * process again. Duplicates are counted at the receiver and in the attempt log.
 */
async function runScaleOut(sql: postgres.Sql, databaseUrl: string, deliveries: number): Promise<ScaleOutRow[]> {
  const rows: ScaleOutRow[] = [];
  for (const count of [1, 2, 4]) {
    if (wasInterrupted()) break;
    say(`> dispatcher scale-out: ${deliveries} deliveries, ${count} dispatcher process(es)`);
    const dispatchers = await startDispatchers(databaseUrl, count);
    const receiver = await startReceiver();
    try {
      const ids = await spreadBacklog(sql, receiver.url, deliveries);
      const kickAll = () =>
        dispatchers.urls.forEach((url) => kick(url, dispatchers.secret).then((res) => res.body?.cancel(), () => {}));
      const started = wallNow();
      kickAll();
      const ticker = setInterval(kickAll, DISPATCH_INTERVAL_MS);
      try {
        await waitForReceipts(receiver, ids, WAIT_LIMIT_MS);
      } finally {
        clearInterval(ticker);
      }
      const received = ids.filter((id) => receiver.receipts.has(id));
      const seconds = (Math.max(started, ...received.map((id) => receiver.receipts.get(id)!)) - started) / 1000;
      // Attempts still being recorded when the last receipt arrived are counted too.
      await new Promise((r) => setTimeout(r, 500));
      const [{ duplicated }] = await sql<{ duplicated: number }[]>`
        select count(*)::int as duplicated from (
          select 1 from public.webhook_attempts where delivery_id = any(${ids}::uuid[])
           group by delivery_id, attempt having count(*) > 1) as twice`;
      rows.push({
        dispatchers: count,
        deliveries: ids.length,
        received: received.length,
        seconds,
        perSecond: Math.round((received.length / Math.max(seconds, 0.001)) * 10) / 10,
        duplicateReceipts: receiver.duplicates,
        duplicateAttempts: duplicated,
      });
      say(
        `  ${received.length} received in ${seconds.toFixed(2)} s: ${rows.at(-1)!.perSecond}/s, ` +
          `${receiver.duplicates} duplicate receipts, ${duplicated} duplicate attempts`,
      );
    } finally {
      await receiver.close();
      await dispatchers.stop();
    }
  }
  return rows;
}

export async function runDispatcherBench(options: {
  sql: postgres.Sql;
  databaseUrl: string;
  functions: Functions;
  deliveries: number;
  steadyRate: number;
  seconds: number;
}): Promise<DispatcherResult> {
  const { sql, functions } = options;
  say("> dispatcher: checking that the functions serve webhook-dispatcher");
  const missing = await availability(functions);
  if (missing) {
    say(`  skipped: ${missing}`);
    return { skipped: missing };
  }
  const notes: string[] = [];
  const receiver = await startReceiver();
  const { tenant, endpointId } = await subscribedTenant(sql, receiver.url);

  // Driven like `npm start` drives it, for the whole section.
  let invocations = 0;
  let failedInvocations = 0;
  const tick = () => {
    invocations++;
    dispatch(functions).then(async (res) => {
      if (!res.ok) failedInvocations++;
      await res.body?.cancel();
    }, () => failedInvocations++);
  };
  const ticker = setInterval(tick, DISPATCH_INTERVAL_MS);
  onCleanup({ name: "dispatcher ticker", run: () => Promise.resolve(clearInterval(ticker)) });
  try {
    // Phase 1: a backlog over 40 endpoints of 10 workspaces, queued through the same SQL the RPCs use, then one kick.
    say(`> dispatcher drain: ${options.deliveries} deliveries queued at once`);
    const drainIds = await spreadBacklog(sql, receiver.url, options.deliveries);
    const committed = wallNow();
    tick();
    await waitForReceipts(receiver, drainIds, WAIT_LIMIT_MS);
    const drainReceived = drainIds.filter((id) => receiver.receipts.has(id));
    const lastReceipt = Math.max(committed, ...drainReceived.map((id) => receiver.receipts.get(id)!));
    const drainSeconds = (lastReceipt - committed) / 1000;
    const drainLatency = latencies(receiver, await occurredAt(sql, drainIds), drainIds);
    const drain = {
      deliveries: drainIds.length,
      received: drainReceived.length,
      seconds: drainSeconds,
      perSecond: Math.round((drainReceived.length / Math.max(drainSeconds, 0.001)) * 10) / 10,
      latencyMs: summarize(drainLatency),
    };
    if (drainReceived.length < drainIds.length) {
      notes.push(`drain: only ${drainReceived.length} of ${drainIds.length} received within ${WAIT_LIMIT_MS / 1000} s`);
    }
    say(`  ${drain.received} received in ${drain.seconds.toFixed(2)} s: ${drain.perSecond}/s`);

    // Phase 2: campaign creates through the gateway at a steady rate; each commits one delivery and kicks the
    // dispatcher, as in production.
    if (wasInterrupted()) throw new Error("interrupted");
    say(`> dispatcher steady: POST /v1/campaigns at ${options.steadyRate}/s for ${options.seconds} s`);
    const before = new Set(drainIds);
    const steadyStart = wallNow();
    const instance = autocannon({
      url: `${functions.gatewayUrl}/v1/campaigns`,
      method: "POST",
      headers: { Authorization: `Bearer ${tenant.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "bench steady" }),
      connections: 4,
      overallRate: options.steadyRate,
      amount: Math.round(options.steadyRate * options.seconds),
      timeout: 10,
    });
    const statuses: Record<string, number> = {};
    instance.on("response", (_c, status) => (statuses[status] = (statuses[status] ?? 0) + 1));
    await instance;
    const steadyIds = (await sql<{ id: string }[]>`
      select id from public.webhook_deliveries where endpoint_id = ${endpointId}`).map((r) => r.id)
      .filter((id) => !before.has(id));
    await waitForReceipts(receiver, steadyIds, WAIT_LIMIT_MS);
    const steadyReceived = steadyIds.filter((id) => receiver.receipts.has(id));
    const steadySeconds = (Math.max(...steadyReceived.map((id) => receiver.receipts.get(id)!), steadyStart) -
      steadyStart) / 1000;
    const steady = {
      rate: options.steadyRate,
      expected: steadyIds.length,
      received: steadyReceived.length,
      seconds: steadySeconds,
      perSecond: Math.round((steadyReceived.length / Math.max(steadySeconds, 0.001)) * 10) / 10,
      latencyMs: summarize(latencies(receiver, await occurredAt(sql, steadyIds), steadyIds)),
    };
    const non201 = Object.entries(statuses).filter(([s]) => s !== "201");
    if (non201.length) notes.push(`steady: creates answered ${non201.map(([s, n]) => `${s}:${n}`).join(" ")}`);
    if (steady.received < steady.expected) {
      notes.push(`steady: only ${steady.received} of ${steady.expected} received within ${WAIT_LIMIT_MS / 1000} s`);
    }
    const { p50, p99 } = steady.latencyMs;
    say(`  ${steady.received}/${steady.expected} received, p50 ${p50} ms, p99 ${p99} ms`);
    clearInterval(ticker);
    const scaleOut = await runScaleOut(sql, options.databaseUrl, options.deliveries);

    if (receiver.duplicates) notes.push(`${receiver.duplicates} duplicate deliveries (at-least-once) ignored`);
    const failed = failedInvocations ? `, ${failedInvocations} failed` : "";
    notes.push(`${invocations} ticker/kick POSTs from the bench${failed} (the gateway's own kicks not counted)`);
    return { drain, scaleOut, steady, notes };
  } finally {
    clearInterval(ticker);
    await receiver.close();
  }
}
