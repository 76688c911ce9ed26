import { createHmac, randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { createPostgresDatabase } from "@shared/db/postgres-database.ts";
import { claimDeliveries, NO_RETRY, recordAttempt } from "@shared/webhooks/delivery-queue.ts";
import { parseRetryDelays, retryDelayMs } from "@shared/webhooks/retry-schedule.ts";
import { nodeConnect, nodeResolveHost } from "@shared/runtime/node.ts";
import { drainSettingsFromEnv } from "@dispatcher/services.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { ISO_UTC, REQUEST_ID } from "../support/assertions.ts";
import { startDispatcher } from "../support/dispatcher.ts";
import { call } from "../support/gateway.ts";
import { outboxSuite } from "../support/outbox-suite.ts";
import type { Reply } from "../support/webhook-receiver.ts";

// The dispatcher drains the whole outbox, so this suite has a database of its own (see outbox-suite.ts).
const outbox = outboxSuite();
const { receiver, dispatcher, tracked } = outbox;

/** A fresh workspace and a key that may write campaigns (which is what queues deliveries). */
async function tenant() {
  const workspace = await createWorkspace(outbox.pdb.sql, { name: "dispatch test", plan: "org" });
  const key = await createApiKey(outbox.pdb.sql, {
    workspaceId: workspace.id,
    permissions: ["campaigns:read", "campaigns:write"],
    tier: "unmetered",
  });
  return { workspaceId: workspace.id, key: key.key };
}
type Tenant = Awaited<ReturnType<typeof tenant>>;

/** An endpoint row as POST /v1/webhooks would store it, secret in the contract's format. */
async function addEndpoint(workspaceId: string, url: string, events = ["campaign.created"]) {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const [row] = await outbox.pdb.sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspaceId}, ${url}, ${events}, ${secret}) returning id`;
  return { id: row.id, secret };
}

/** Creates a campaign through the gateway: the real RPC writes the event and its deliveries. */
async function createCampaign(t: Tenant, name = "Spring launch") {
  const res = await call(`${outbox.gateway.url}/v1/campaigns`, { method: "POST", key: t.key, body: { name } });
  expect(res.status, res.text).toBe(201);
  return res.body.data.campaign as Record<string, unknown>;
}

async function deliveriesOf(endpointId: string) {
  return await outbox.pdb.sql<
    { id: string; event_id: string; status: string; attempts: number; lease_expires_at: Date | null }[]
  >`
    select id, event_id, status, attempts, lease_expires_at from public.webhook_deliveries
     where endpoint_id = ${endpointId} order by created_at, id`;
}

async function attemptsOf(deliveryId: string) {
  return await outbox.pdb.sql`
    select attempt, status, status_code, error, response_body, duration_ms, next_attempt_at,
           extract(epoch from next_attempt_at - created_at)::float8 as retry_after_seconds
      from public.webhook_attempts where delivery_id = ${deliveryId} order by id`;
}

/** The claim's and record's settings as the deployed dispatcher has them by default (five days to disable). */
const QUEUE = drainSettingsFromEnv({}, { resolveHost: nodeResolveHost, connect: nodeConnect });
const retryIn = (ms: number) => ({ retryInMs: ms, spends: true, windowMs: ms });

const dueNow = (deliveryId: string) =>
  outbox.pdb.sql`update public.webhook_deliveries set next_attempt_at = now() where id = ${deliveryId}`;

describe("retry schedule", () => {
  it("defaults to 30 s, 2 min, 10 min, 1 h, 6 h: six attempts in all", () => {
    const delays = parseRetryDelays(undefined);
    expect(delays).toEqual([30, 120, 600, 3600, 21600]);
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, delays, 0))).toEqual([
      30_000,
      120_000,
      600_000,
      3_600_000,
      21_600_000,
      null,
    ]);
  });

  it("adds at most 10% jitter, never less than the delay", () => {
    expect(retryDelayMs(1, [30], 0.999)).toBeLessThanOrEqual(33_000);
    expect(retryDelayMs(1, [30], 0.5)).toBeGreaterThan(30_000);
    expect(retryDelayMs(1, [0], 0.9)).toBe(0);
  });

  it("parses WEBHOOK_RETRY_DELAYS and refuses nonsense", () => {
    expect(parseRetryDelays("0, 0.5")).toEqual([0, 0.5]);
    expect(parseRetryDelays("")).toEqual(parseRetryDelays(undefined));
    for (const bad of ["a", "-1", "1,,2", "30,"]) expect(() => parseRetryDelays(bad), bad).toThrow();
  });
});

// pg_cron posts to the dispatcher only when this says a delivery is due (migration 20261130000300). The embedded
// Postgres has no pg_cron, so the function is called here directly, as the job calls it.
describe("webhook_delivery_due()", () => {
  const due = async () =>
    (await outbox.pdb.sql<{ due: boolean }[]>`select public.webhook_delivery_due() as due`)[0].due;

  it("is true exactly while a pending delivery is due and not leased by a drain", async () => {
    expect(await due()).toBe(false);
    const t = await tenant();
    const endpoint = await addEndpoint(t.workspaceId, "https://hooks.customer.example/leadlex");
    await createCampaign(t);
    expect(await due()).toBe(true);

    const held = await claimDeliveries(outbox.dispatcherDb, 10, { ...QUEUE, leaseSeconds: 3600 });
    expect(held.deliveries).toMatchObject([{ attempt: 1, spent: 0, window_left_ms: null }]);
    expect(await due()).toBe(false);
    // A drain that died: its lease runs out (set in the past here instead of waiting) and the delivery is due again.
    const [delivery] = await deliveriesOf(endpoint.id);
    await outbox.pdb.sql`update public.webhook_deliveries set lease_expires_at = now() - interval '1 second'
                   where id = ${delivery.id}`;
    expect(await due()).toBe(true);

    const retaken = await claimDeliveries(outbox.dispatcherDb, 10, { ...QUEUE, leaseSeconds: 3600 });
    const failed = {
      statusCode: 500,
      error: "http_error" as const,
      responseBody: "",
      durationMs: 1,
      retryAfterMs: null,
    };
    expect(await recordAttempt(outbox.dispatcherDb, retaken.deliveries[0], failed, retryIn(60_000), QUEUE))
      .toMatchObject({ outcome: "pending" });
    expect(await due()).toBe(false); // the retry is a minute away
    await dueNow(delivery.id);
    expect(await due()).toBe(true);

    const done = { statusCode: 200, error: null, responseBody: "", durationMs: 1, retryAfterMs: null };
    const next = (await claimDeliveries(outbox.dispatcherDb, 10, { ...QUEUE, leaseSeconds: 3600 })).deliveries[0];
    // The lost attempt and the failure each spent an attempt; the failure opened a one-minute window, still open.
    expect(next).toMatchObject({ attempt: 3, spent: 2 });
    expect(next.window_left_ms).toBeGreaterThan(30_000);
    expect(next.window_left_ms).toBeLessThanOrEqual(60_000);
    expect(await recordAttempt(outbox.dispatcherDb, next, done, NO_RETRY, QUEUE)).toMatchObject({ outcome: "success" });
    expect(await due()).toBe(false);
  });
});

describe("webhook-dispatcher", () => {
  it("delivers the contract's envelope, signed both ways, and records the attempt", async () => {
    const t = await tenant();
    const hook = await receiver(() => ({ status: 200, body: "thanks" }));
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    const campaign = await createCampaign(t);
    const d = await dispatcher();

    expect(await d.drain()).toMatchObject({ claimed: 1, delivered: 1, rescheduled: 0, failed: 0, stale: 0 });

    const [delivery] = await deliveriesOf(endpoint.id);
    const [event] = await outbox.pdb.sql`
      select public.iso_utc(occurred_at) as occurred_at from public.webhook_events where id = ${delivery.event_id}`;
    expect(hook.received).toHaveLength(1);
    const { headers, body } = hook.received[0];
    const envelope = JSON.parse(body);
    expect(Object.keys(envelope)).toEqual(["event", "delivery_id", "occurred_at", "workspace_id", "data"]);
    expect(envelope).toEqual({
      event: "campaign.created",
      delivery_id: delivery.id,
      occurred_at: event.occurred_at,
      workspace_id: t.workspaceId,
      data: { campaign },
    });

    expect(headers["content-type"]).toBe("application/json");
    expect(headers["user-agent"]).toBe("LeadLex-Webhook/1.0");
    expect(headers["x-leadlex-delivery-id"]).toBe(delivery.id);
    expect(headers["webhook-id"]).toBe(delivery.id);
    const sentAt = String(headers["x-leadlex-timestamp"]);
    expect(sentAt).toMatch(ISO_UTC);
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(Date.parse(sentAt) / 1000)));

    // The documented recipe, with nothing but node:crypto.
    const hex = createHmac("sha256", Buffer.from(endpoint.secret, "utf8")).update(body).digest("hex");
    expect(headers["x-leadlex-signature"]).toBe(`sha256=${hex}`);
    // An independent Standard Webhooks implementation.
    const standard = {
      "webhook-id": String(headers["webhook-id"]),
      "webhook-timestamp": String(headers["webhook-timestamp"]),
      "webhook-signature": String(headers["webhook-signature"]),
    };
    expect(new Webhook(endpoint.secret).verify(body, standard)).toEqual(envelope);
    expect(() => new Webhook(endpoint.secret).verify(body.replace("Spring", "Autumn"), standard)).toThrow();

    expect(delivery).toMatchObject({ status: "success", attempts: 1, lease_expires_at: null });
    const attempts = await attemptsOf(delivery.id);
    expect(attempts).toMatchObject([
      { attempt: 1, status: "success", status_code: 200, error: null, response_body: "thanks", next_attempt_at: null },
    ]);
    expect(attempts[0].duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("retries a failing receiver per WEBHOOK_RETRY_DELAYS with the same delivery id, then gives up", async () => {
    const t = await tenant();
    const hook = await receiver(() => ({ status: 500, body: "boom" }));
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t);
    const d = await dispatcher({ env: { WEBHOOK_RETRY_DELAYS: "0,0" } });

    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect(await d.drain()).toMatchObject({ claimed: 1, failed: 1 });
    expect(await d.drain()).toMatchObject({ claimed: 0 });

    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: 3 });
    expect(hook.received.map((r) => r.headers["x-leadlex-delivery-id"])).toEqual([
      delivery.id,
      delivery.id,
      delivery.id,
    ]);
    expect(hook.received.map((r) => JSON.parse(r.body).delivery_id)).toEqual([delivery.id, delivery.id, delivery.id]);
    const attempts = await attemptsOf(delivery.id);
    expect(attempts.map((a) => [a.attempt, a.status, a.status_code, a.error, a.response_body])).toEqual([
      [1, "failed", 500, "http_error", "boom"],
      [2, "failed", 500, "http_error", "boom"],
      [3, "failed", 500, "http_error", "boom"],
    ]);
    expect(attempts.map((a) => a.next_attempt_at === null)).toEqual([false, false, true]);
  });

  it("follows the default schedule: six attempts, each retry 30 s .. 6 h later with at most 10% jitter", async () => {
    const t = await tenant();
    const hook = await receiver(() => ({ status: 503 }));
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t);
    // The endpoint's circuit would hold the sixth attempt back for 30 s: not what this test is about.
    const d = await dispatcher({ settings: { circuit: { after: 10, baseSeconds: 30, maxSeconds: 3600 } } });
    const [{ id }] = await deliveriesOf(endpoint.id);

    for (let n = 1; n <= 6; n++) {
      await d.drain();
      await dueNow(id); // stands in for waiting out the delay
    }
    const attempts = await attemptsOf(id);
    expect(attempts.map((a) => a.status)).toEqual(["failed", "failed", "failed", "failed", "failed", "failed"]);
    [30, 120, 600, 3600, 21600].forEach((delay, i) => {
      expect(attempts[i].retry_after_seconds).toBeGreaterThanOrEqual(delay);
      expect(attempts[i].retry_after_seconds).toBeLessThanOrEqual(delay * 1.1);
    });
    expect(attempts[5].next_attempt_at).toBeNull();
    expect(hook.received).toHaveLength(6);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "failed", attempts: 6 });
  });

  it("cuts a hanging receiver off at the timeout and retries it as 'timeout'", async () => {
    const t = await tenant();
    const hook = await receiver((_, index) => (index === 0 ? "hang" : { status: 204 }));
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t);
    const d = await dispatcher({ env: { WEBHOOK_RETRY_DELAYS: "0" }, settings: { timeoutMs: 500 } });

    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect(await d.drain()).toMatchObject({ claimed: 1, delivered: 1 });

    const [delivery] = await deliveriesOf(endpoint.id);
    expect(await attemptsOf(delivery.id)).toMatchObject([
      { attempt: 1, status: "failed", status_code: null, error: "timeout", response_body: null },
      { attempt: 2, status: "success", status_code: 204, error: null },
    ]);
    expect([...hook.countsById()]).toEqual([[delivery.id, 2]]);
  });

  it("loses nothing when a dispatcher dies mid-delivery: the lease runs out and the delivery is sent again", async () => {
    const t = await tenant();
    const hook = await receiver();
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t, "first");
    await createCampaign(t, "second");
    const [first, second] = await deliveriesOf(endpoint.id);

    // Two dispatchers claim and die without recording: one holds a long lease, the other a short one.
    const held = await claimDeliveries(outbox.dispatcherDb, 1, { ...QUEUE, leaseSeconds: 3600 });
    const dead = await claimDeliveries(outbox.dispatcherDb, 1, { ...QUEUE, leaseSeconds: 0.5 });
    expect(held.deliveries.map((x) => x.delivery_id)).toEqual([first.id]);
    expect(dead.deliveries.map((x) => x.delivery_id)).toEqual([second.id]);

    const d = await dispatcher();
    for (let round = 0; round < 100 && hook.received.length === 0; round++) {
      await d.drain();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect([...hook.countsById()]).toEqual([[second.id, 1]]);
    expect(JSON.parse(hook.received[0].body).delivery_id).toBe(second.id);
    const [stillHeld, resent] = await deliveriesOf(endpoint.id);
    expect(stillHeld).toMatchObject({ status: "pending", attempts: 1 });
    expect(resent).toMatchObject({ status: "success", attempts: 2 });
    // The attempt its dead dispatcher never recorded is in the log as lost, before the one that delivered it.
    expect(await attemptsOf(second.id)).toMatchObject([
      { attempt: 1, status: "failed", error: "attempt_lost" },
      { attempt: 2, status: "success" },
    ]);

    // The dead dispatcher comes back and records its attempt: too late, nothing changes.
    const late = { statusCode: 500, error: "http_error" as const, responseBody: "", durationMs: 1, retryAfterMs: null };
    expect(await recordAttempt(outbox.dispatcherDb, dead.deliveries[0], late, retryIn(0), QUEUE))
      .toMatchObject({ outcome: "stale" });
    expect((await deliveriesOf(endpoint.id))[1]).toMatchObject({ status: "success", attempts: 2 });
    expect(await attemptsOf(second.id)).toHaveLength(2);
  });

  it("two dispatchers draining one queue at once never send an attempt twice", async () => {
    const t = await tenant();
    const hook = await receiver();
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => createCampaign(t, `bulk ${batch}-${i}`)));
    }
    const other = createPostgresDatabase(outbox.pdb.url);
    const [a, b] = await Promise.all([dispatcher(), tracked(startDispatcher({ db: other }))]);
    await tracked(Promise.resolve({ close: () => other.close() }));

    let claimed = 0;
    for (let round = 0; round < 20; round++) {
      const summaries = await Promise.all([a.drain(), b.drain()]);
      claimed += summaries[0].claimed + summaries[1].claimed;
      const [{ pending }] = await outbox.pdb.sql`
        select count(*)::int as pending from public.webhook_deliveries
         where endpoint_id = ${endpoint.id} and status = 'pending'`;
      if (pending === 0) break;
    }

    expect(claimed).toBe(200);
    const counts = hook.countsById();
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const deliveries = await deliveriesOf(endpoint.id);
    expect(new Set(counts.keys())).toEqual(new Set(deliveries.map((x) => x.id)));
    expect(deliveries.every((x) => x.status === "success" && x.attempts === 1)).toBe(true);
    const [{ rows, first }] = await outbox.pdb.sql`
      select count(*)::int as rows, count(*) filter (where a.attempt = 1)::int as first
        from public.webhook_attempts a where a.endpoint_id = ${endpoint.id}`;
    expect({ rows, first }).toEqual({ rows: 200, first: 200 });
  });

  it("a 410 Gone disables the endpoint; its other deliveries are cancelled, not sent", async () => {
    const t = await tenant();
    const hook = await receiver(() => ({ status: 410, body: "gone" }));
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t, "first");
    await createCampaign(t, "second");
    const [first, second] = await deliveriesOf(endpoint.id);
    await outbox.pdb
      .sql`update public.webhook_deliveries set next_attempt_at = now() + interval '1 hour' where id = ${second.id}`;
    const d = await dispatcher();

    expect(await d.drain()).toMatchObject({ claimed: 1, failed: 1 });
    const [row] = await outbox.pdb.sql`select active from public.webhook_endpoints where id = ${endpoint.id}`;
    expect(row.active).toBe(false);
    expect(await attemptsOf(first.id)).toMatchObject([
      {
        attempt: 1,
        status: "failed",
        status_code: 410,
        error: "http_error",
        response_body: "gone",
        next_attempt_at: null,
      },
    ]);

    await dueNow(second.id);
    expect(await d.drain()).toMatchObject({ claimed: 0, cancelled: 1 });
    expect((await deliveriesOf(endpoint.id)).map((x) => x.status)).toEqual(["failed", "cancelled"]);
    expect(hook.received).toHaveLength(1);
  });

  it("a deleted endpoint receives nothing more, even with deliveries still pending", async () => {
    const t = await tenant();
    const hook = await receiver(() => ({ status: 500 }));
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t, "first");
    await createCampaign(t, "second");
    const d = await dispatcher({ env: { WEBHOOK_RETRY_DELAYS: "0,0,0" } });
    expect(await d.drain()).toMatchObject({ claimed: 2, rescheduled: 2 });

    // Only the soft delete, without delete_webhook's cancelling, so that the dispatcher's own check is what counts.
    await outbox.pdb.sql`update public.webhook_endpoints set deleted_at = now() where id = ${endpoint.id}`;
    expect(await d.drain()).toMatchObject({ claimed: 0, cancelled: 2 });
    expect(hook.received).toHaveLength(2);
    expect((await deliveriesOf(endpoint.id)).map((x) => x.status)).toEqual(["cancelled", "cancelled"]);
  });

  it("re-checks the URL at every attempt: a host now resolving to a private address is blocked_url", async () => {
    const t = await tenant();
    const endpoint = await addEndpoint(t.workspaceId, "https://hooks.customer.example/leadlex");
    await createCampaign(t);
    const lookups: string[] = [];
    const d = await dispatcher({
      settings: {
        allowPrivateUrls: false,
        resolveHost: (host) => {
          lookups.push(host);
          return Promise.resolve(["10.0.0.1"]);
        },
      },
    });

    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect(lookups).toEqual(["hooks.customer.example"]);
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1 });
    expect(await attemptsOf(delivery.id)).toMatchObject([
      { attempt: 1, status: "failed", status_code: null, error: "blocked_url", response_body: null },
    ]);
  });

  it("sends nothing to a blocked address even when the host would reach a live receiver", async () => {
    const t = await tenant();
    const hook = await receiver();
    // localhost reaches the receiver; the check is told it resolves to the cloud metadata address instead.
    await addEndpoint(t.workspaceId, hook.url.replace("127.0.0.1", "localhost"));
    await createCampaign(t);
    const d = await dispatcher({ settings: { resolveHost: () => Promise.resolve(["169.254.169.254"]) } });

    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect(hook.received).toHaveLength(0);
  });

  it("answers 202 at once and delivers in the background: the answer does not wait for the receiver", async () => {
    const t = await tenant();
    let answer!: (reply: Reply) => void;
    const hook = await receiver(() => new Promise<Reply>((resolve) => (answer = resolve)));
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t);
    const d = await dispatcher();

    const kick = await d.kick();
    expect(kick.status).toBe(202);
    await vi.waitFor(() => expect(hook.received).toHaveLength(1), { timeout: 10_000 });
    // The receiver has not answered, so the attempt cannot have been recorded: the 202 came first.
    const [inFlight] = await deliveriesOf(endpoint.id);
    expect(inFlight).toMatchObject({ status: "pending", attempts: 1 });
    expect(inFlight.lease_expires_at).not.toBeNull();
    expect(await attemptsOf(inFlight.id)).toHaveLength(0);

    answer({ status: 200, body: "late" });
    expect(await kick.drained).toMatchObject({ claimed: 1, delivered: 1 });
    expect(await attemptsOf(inFlight.id)).toMatchObject([{ attempt: 1, status: "success", response_body: "late" }]);
  });

  it("a kick during a drain wakes it: a delivery queued behind a hanging attempt goes out at once", async () => {
    const t = await tenant();
    let answer!: (reply: Reply) => void;
    const hook = await receiver((_, index) =>
      index === 0 ? new Promise<Reply>((resolve) => (answer = resolve)) : { status: 200 }
    );
    await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t, "first");
    const d = await dispatcher();

    const first = await d.kick();
    await vi.waitFor(() => expect(hook.received).toHaveLength(1), { timeout: 10_000 });
    await createCampaign(t, "second");
    const joined = await d.kick();
    // The first attempt still hangs, and the second delivery is already received.
    await vi.waitFor(() => expect(hook.received).toHaveLength(2), { timeout: 10_000 });

    answer({ status: 200 });
    const summary = await first.drained;
    expect(await joined.drained).toBe(summary);
    expect(summary).toMatchObject({ claimed: 2, delivered: 2 });
    expect(hook.received.map((r) => JSON.parse(r.body).data.campaign.name)).toEqual(["first", "second"]);
    expect(d.logs.filter((l) => l.msg === "webhook drain").map((l) => l.kicks)).toEqual([2]);
  });

  it("a kick after a drain's claim window closed starts a new drain beside the one still waiting", async () => {
    const t = await tenant();
    let answer!: (reply: Reply) => void;
    const hook = await receiver((_, index) =>
      index === 0 ? new Promise<Reply>((resolve) => (answer = resolve)) : { status: 200 }
    );
    await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t, "first");
    // A window of 0: each drain makes its first claim only.
    const d = await dispatcher({ settings: { claimWindowMs: 0 } });

    const first = await d.kick();
    await vi.waitFor(() => expect(hook.received).toHaveLength(1), { timeout: 10_000 });
    await createCampaign(t, "second");
    const second = await d.kick();
    expect(await second.drained).toMatchObject({ claimed: 1, delivered: 1 });
    expect(hook.received).toHaveLength(2);

    answer({ status: 200 });
    expect(await first.drained).toMatchObject({ claimed: 1, delivered: 1 });
    expect(hook.received.map((r) => JSON.parse(r.body).data.campaign.name)).toEqual(["first", "second"]);
    expect(d.logs.filter((l) => l.msg === "webhook drain").map((l) => l.kicks)).toEqual([1, 1]);
  });

  it("stops claiming when its budget is spent and hands the rest to a fresh invocation", async () => {
    const t = await tenant();
    const hook = await receiver();
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    for (let i = 0; i < 7; i++) await createCampaign(t, `backlog ${i}`);
    const d = await dispatcher({ settings: { maxDeliveries: 3 } });

    expect(await d.drain()).toMatchObject({ claimed: 3, delivered: 3, stopped: "budget" });
    await d.settled();

    const drains = d.logs.filter((l) => l.msg === "webhook drain");
    expect(drains.map((l) => [l.claimed, l.stopped])).toEqual([[3, "budget"], [3, "budget"], [1, "empty"]]);
    expect([...hook.countsById().values()]).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect((await deliveriesOf(endpoint.id)).every((x) => x.status === "success")).toBe(true);
  });

  it("refuses callers without the dispatcher secret, and never logs a secret", async () => {
    const t = await tenant();
    const hook = await receiver();
    const endpoint = await addEndpoint(t.workspaceId, hook.url);
    await createCampaign(t);
    const d = await dispatcher();
    const unconfigured = await dispatcher({ secret: undefined });

    const attempts: [string, Record<string, string>, string][] = [
      [d.url, {}, "missing_auth"],
      [d.url, { Authorization: `Basic ${d.secret}` }, "missing_auth"],
      [d.url, { Authorization: "Bearer wrong" }, "invalid_key"],
      [d.url, { Authorization: `Bearer ${d.secret}x` }, "invalid_key"],
      [d.url, { Authorization: `Bearer ${d.secret!.slice(0, -1)}` }, "invalid_key"],
      [unconfigured.url, { Authorization: `Bearer ${d.secret}` }, "invalid_key"],
    ];
    for (const [url, headers, code] of attempts) {
      const res = await call(url, { method: "POST", headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(res.headers.get("x-request-id")).toMatch(REQUEST_ID);
      expect(Object.keys(res.body)).toEqual(["error"]);
      expect(res.body.error.code).toBe(code);
    }
    expect(hook.received).toHaveLength(0);
    expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: "pending", attempts: 0 });

    const wrongMethod = await call(d.url, { headers: { Authorization: `Bearer ${d.secret}` } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(wrongMethod.headers.get("x-request-id")).toMatch(REQUEST_ID);
    const unknown = await call(`${d.url}/elsewhere`, { method: "POST" });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: "not_found" } });
    expect(unknown.headers.get("x-request-id")).toMatch(REQUEST_ID);

    // The deployed path prefix answers too.
    const deployed = await call(d.url.replace("/functions/v1", ""), {
      method: "POST",
      headers: { Authorization: `Bearer ${d.secret}` },
    });
    expect(deployed.status).toBe(202);
    expect(deployed.headers.get("x-request-id")).toMatch(REQUEST_ID);
    expect(deployed.body).toEqual({ data: { accepted: true } });
    await d.settled();
    expect(hook.received).toHaveLength(1);
    expect(d.logs).toContainEqual(expect.objectContaining({
      msg: "webhook drain",
      request_id: deployed.headers.get("x-request-id"),
      claimed: 1,
      delivered: 1,
      stopped: "empty",
    }));

    const logs = JSON.stringify([...d.logs, ...unconfigured.logs]);
    expect(logs).toContain("webhook drain");
    expect(logs).not.toContain(d.secret);
    expect(logs).not.toContain(endpoint.secret);
  });
});
