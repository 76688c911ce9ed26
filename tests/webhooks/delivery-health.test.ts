import { describe, expect, it } from "vitest";
import { ENDPOINT_DISABLED_EVENT } from "@shared/webhooks/events.ts";
import {
  decideRetry,
  parseDisableAfterSeconds,
  parseRetryAfter,
  RETRY_AFTER_CAP_MS,
} from "@shared/webhooks/retry-schedule.ts";
import { outboxSuite } from "../support/outbox-suite.ts";

// Attempt outcomes, receiver back-pressure and auto-disable, through the gateway and the dispatcher with real
// receivers. The dispatcher drains the whole outbox, so this suite has a database of its own (outbox-suite.ts).
const outbox = outboxSuite({ allowPrivateWebhookUrls: true });
const { receiver } = outbox;
const dispatcher = (env: Record<string, string> = {}) => outbox.dispatcher({ env });

const tenant = () => outbox.tenant();

const deliveriesOf = (endpointId: string) =>
  outbox.pdb.sql<{ id: string; status: string; attempts: number; spent_attempts: number }[]>`
    select id, status, attempts, spent_attempts from public.webhook_deliveries
     where endpoint_id = ${endpointId} order by created_at, id`;
const dueNow = (endpointId: string) =>
  outbox.pdb.sql`update public.webhook_deliveries set next_attempt_at = now() where endpoint_id = ${endpointId}
           and status = 'pending'`;
const secondsUntil = (iso: string) => (Date.parse(iso) - Date.now()) / 1000;

describe("Retry-After", () => {
  const now = new Date("2026-11-30T05:00:00Z");
  it.each([
    ["120", 120_000],
    ["  7 ", 7_000],
    ["0", 1_000], // never a tight loop
    ["86400", RETRY_AFTER_CAP_MS], // capped at 6 h
    ["Mon, 30 Nov 2026 05:02:00 GMT", 120_000], // IMF-fixdate
    ["Monday, 30-Nov-26 05:00:30 GMT", 30_000], // RFC 850
    ["Mon Nov 30 05:00:10 2026", 10_000], // asctime
    ["Mon, 30 Nov 2026 04:00:00 GMT", 1_000], // already past
    ["Tue, 01 Dec 2026 05:00:00 GMT", RETRY_AFTER_CAP_MS],
    [null, null],
    ["", null],
    ["-5", null],
    ["1.5", null],
    ["soon", null],
    ["2026-11-30T05:02:00Z", null], // not an HTTP-date
    ["Mon, 99 Foo 2026 05:02:00 GMT", null],
  ])("%j is %j ms", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe("the retry decision", () => {
  const delays = [30, 120];
  it.each(
    [
      ["a plain failure spends and opens the schedule's window", { spent: 0, windowLeftMs: null }, null, {
        retryInMs: 30_000,
        spends: true,
        windowMs: 30_000,
      }],
      ["Retry-After on the first attempt spends it, retried when asked", { spent: 0, windowLeftMs: null }, 5_000, {
        retryInMs: 5_000,
        spends: true,
        windowMs: 30_000,
      }],
      ["Retry-After inside the open window spends nothing", { spent: 1, windowLeftMs: 20_000 }, 5_000, {
        retryInMs: 5_000,
        spends: false,
        windowMs: null,
      }],
      ["Retry-After after the window spends the next attempt", { spent: 1, windowLeftMs: 0 }, 3_600_000, {
        retryInMs: 3_600_000,
        spends: true,
        windowMs: 120_000,
      }],
      ["a plain failure inside the window still spends", { spent: 1, windowLeftMs: 20_000 }, null, {
        retryInMs: 120_000,
        spends: true,
        windowMs: 120_000,
      }],
      ["the last attempt spent is final, Retry-After or not", { spent: 2, windowLeftMs: 0 }, 5_000, {
        retryInMs: null,
        spends: true,
        windowMs: null,
      }],
    ] as const,
  )("%s", (_, state, retryAfter, expected) => {
    expect(decideRetry(state, retryAfter, delays, 0)).toEqual(expected);
  });

  it("reads WEBHOOK_DISABLE_AFTER_DAYS, 5 days by default", () => {
    expect(parseDisableAfterSeconds(undefined)).toBe(432_000);
    expect(parseDisableAfterSeconds("0.5")).toBe(43_200);
    for (const bad of ["0", "-1", "x", "1e12"]) expect(() => parseDisableAfterSeconds(bad), bad).toThrow();
  });
});

describe("attempt log", () => {
  it("shows a 500 as failed at once while the delivery stays pending, then the retry's success", async () => {
    const t = await tenant();
    const hook = await receiver((_, index) => (index === 0 ? { status: 500, body: "boom" } : { status: 200 }));
    const endpoint = await t.hook(hook.url, ["campaign.created"]);
    await t.campaign();
    const d = await dispatcher();

    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    const failed = await t.api(`/webhooks/${endpoint.id}/logs?status=failed`);
    expect(failed.status).toBe(200);
    expect(failed.body.data.logs).toMatchObject([
      { attempt: 1, status: "failed", status_code: 500, error: "http_error", response_body: "boom" },
    ]);
    expect(secondsUntil(failed.body.data.logs[0].next_attempt_at)).toBeGreaterThan(20);
    expect((await t.api(`/webhooks/${endpoint.id}/logs?status=pending`)).body.data.logs).toEqual([]);
    expect(await deliveriesOf(endpoint.id)).toMatchObject([{ status: "pending", attempts: 1 }]);

    await dueNow(endpoint.id);
    expect(await d.drain()).toMatchObject({ claimed: 1, delivered: 1 });
    const all = await t.api(`/webhooks/${endpoint.id}/logs`);
    // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
    expect(all.body.data.logs.map((l: any) => [l.attempt, l.status, l.next_attempt_at === null])).toEqual([
      [2, "success", true],
      [1, "failed", false],
    ]);
    expect(await deliveriesOf(endpoint.id)).toMatchObject([{ status: "success" }]);
  });
});

describe("receiver back-pressure", () => {
  it("a 429 with Retry-After sets the next attempt, and repeats inside the window spend no attempt", async () => {
    const t = await tenant();
    const hook = await receiver(() => ({ status: 429, body: "slow down", headers: { "Retry-After": "90" } }));
    const endpoint = await t.hook(hook.url, ["campaign.created"]);
    await t.campaign();
    // Two attempts in all, the window after the first one an hour long.
    const d = await dispatcher({ WEBHOOK_RETRY_DELAYS: "3600" });

    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    const [first] = (await t.api(`/webhooks/${endpoint.id}/logs`)).body.data.logs;
    expect(first).toMatchObject({ attempt: 1, status: "failed", status_code: 429, error: "http_error" });
    expect(secondsUntil(first.next_attempt_at)).toBeGreaterThan(80);
    expect(secondsUntil(first.next_attempt_at)).toBeLessThanOrEqual(90);

    // The receiver keeps asking for time while the hour is open: tried when it asks, nothing spent.
    for (let round = 0; round < 3; round++) {
      await dueNow(endpoint.id);
      expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    }
    expect(await deliveriesOf(endpoint.id)).toMatchObject([{ status: "pending", attempts: 4, spent_attempts: 1 }]);

    // Once the window is over, the next answer spends the second and last attempt.
    await outbox.pdb.sql`update public.webhook_deliveries set window_ends_at = now() - interval '1 second'
                   where endpoint_id = ${endpoint.id}`;
    await dueNow(endpoint.id);
    expect(await d.drain()).toMatchObject({ claimed: 1, failed: 1 });
    const logs = (await t.api(`/webhooks/${endpoint.id}/logs?status=failed`)).body.data.logs;
    // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
    expect(logs.map((l: any) => [l.attempt, l.status_code, l.next_attempt_at === null])).toEqual([
      [5, 429, true],
      [4, 429, false],
      [3, 429, false],
      [2, 429, false],
      [1, 429, false],
    ]);
    expect(hook.received).toHaveLength(5);
    expect(await deliveriesOf(endpoint.id)).toMatchObject([{ status: "failed", spent_attempts: 2 }]);
  });

  it("a 503 with an HTTP-date waits until then, capped at 6 h; without Retry-After the schedule applies", async () => {
    const t = await tenant();
    const tomorrow = new Date(Date.now() + 86_400_000).toUTCString();
    const hook = await receiver((_, index) =>
      index === 0 ? { status: 503, headers: { "Retry-After": tomorrow } } : { status: 503 }
    );
    const endpoint = await t.hook(hook.url, ["campaign.created"]);
    await t.campaign();
    const d = await dispatcher();

    await d.drain();
    let [latest] = (await t.api(`/webhooks/${endpoint.id}/logs`)).body.data.logs;
    expect(latest).toMatchObject({ attempt: 1, status: "failed", status_code: 503 });
    expect(secondsUntil(latest.next_attempt_at)).toBeGreaterThan(6 * 3600 - 60);
    expect(secondsUntil(latest.next_attempt_at)).toBeLessThanOrEqual(6 * 3600);

    await dueNow(endpoint.id);
    await d.drain();
    [latest] = (await t.api(`/webhooks/${endpoint.id}/logs`)).body.data.logs;
    // The first attempt's 30 s window is open, but a plain 503 spends the next attempt: 2 min later.
    expect(latest).toMatchObject({ attempt: 2, status: "failed", status_code: 503 });
    expect(secondsUntil(latest.next_attempt_at)).toBeGreaterThan(110);
    expect(secondsUntil(latest.next_attempt_at)).toBeLessThanOrEqual(132);
    expect(await deliveriesOf(endpoint.id)).toMatchObject([{ status: "pending", spent_attempts: 2 }]);
  });
});

describe("auto-disable", () => {
  /** A receiver that records the endpoint_disabled notices it gets, and the endpoint it is registered as. */
  async function watcher(t: Awaited<ReturnType<typeof tenant>>) {
    const hook = await receiver();
    await t.hook(hook.url, [ENDPOINT_DISABLED_EVENT]);
    return hook;
  }
  /** The endpoint has failed every attempt since `days` ago: its first failure and its streak moved back. */
  const failingFor = (endpointId: string, days: number) =>
    outbox.pdb.sql`update public.webhook_endpoints set failing_since = now() - ${days} * interval '1 day'
             where id = ${endpointId}`;

  it("disables an endpoint failing for 5 days, tells the workspace's other endpoints, and PATCH re-enables it", async () => {
    const t = await tenant();
    const failing = await receiver(() => ({ status: 500 }));
    const endpoint = await t.hook(failing.url, ["campaign.created"]);
    const notices = await watcher(t);
    const elsewhere = await tenant();
    const stranger = await watcher(elsewhere);
    const d = await dispatcher({ WEBHOOK_RETRY_DELAYS: "0,0,0,0,0" });

    await t.campaign("first");
    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1, disabled: 0 });
    // Failing for 4 days is not enough.
    await failingFor(endpoint.id, 4);
    await outbox.pdb.sql`update public.webhook_attempts set created_at = now() - interval '4 days'
                   where endpoint_id = ${endpoint.id}`;
    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1, disabled: 0 });
    expect((await t.api(`/webhooks/${endpoint.id}`)).body.data.webhook).toMatchObject({
      active: true,
      disabled_reason: null,
    });

    await failingFor(endpoint.id, 5.01);
    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1, disabled: 1 });
    expect((await t.api(`/webhooks/${endpoint.id}`)).body.data.webhook).toMatchObject({
      active: false,
      disabled_reason: "failing",
    });
    // The notice goes out on the next drain; the disabled endpoint's own pending delivery is cancelled.
    expect(await d.drain()).toMatchObject({ claimed: 1, delivered: 1, cancelled: 1 });
    expect(notices.received).toHaveLength(1);
    const notice = JSON.parse(notices.received[0].body);
    expect(notice).toMatchObject({
      event: ENDPOINT_DISABLED_EVENT,
      workspace_id: t.workspaceId,
      data: { webhook: { id: endpoint.id, active: false, disabled_reason: "failing" } },
    });
    expect(notice.data.webhook).not.toHaveProperty("secret");
    expect(stranger.received).toHaveLength(0);
    expect(failing.received).toHaveLength(3);

    const patched = await t.api(`/webhooks/${endpoint.id}`, { method: "PATCH", body: { active: true } });
    expect(patched.status).toBe(200);
    expect(patched.body.data.webhook).toMatchObject({ active: true, disabled_reason: null });
    // Re-enabled, its failure streak starts afresh: a failure now does not disable it again.
    await t.campaign("second");
    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1, disabled: 0 });
    expect((await t.api(`/webhooks/${endpoint.id}`)).body.data.webhook.active).toBe(true);
  });

  it("a success ends the failure streak", async () => {
    const t = await tenant();
    const flaky = await receiver((_, index) => (index === 0 ? { status: 200 } : { status: 500 }));
    const endpoint = await t.hook(flaky.url, ["campaign.created"]);
    const d = await dispatcher();
    await failingFor(endpoint.id, 6);
    await t.campaign("first");
    expect(await d.drain()).toMatchObject({ delivered: 1 });
    await t.campaign("second");
    expect(await d.drain()).toMatchObject({ rescheduled: 1, disabled: 0 });
    expect((await t.api(`/webhooks/${endpoint.id}`)).body.data.webhook.active).toBe(true);
  });

  it("a 410 disables at once with reason gone, and the notice goes out", async () => {
    const t = await tenant();
    const gone = await receiver(() => ({ status: 410 }));
    const endpoint = await t.hook(gone.url, ["campaign.created"]);
    const notices = await watcher(t);
    await t.campaign();
    const d = await dispatcher();
    expect(await d.drain()).toMatchObject({ claimed: 1, failed: 1, disabled: 1 });
    expect((await t.api(`/webhooks/${endpoint.id}`)).body.data.webhook).toMatchObject({
      active: false,
      disabled_reason: "gone",
    });
    await d.drain();
    expect(notices.received.map((r) => JSON.parse(r.body).data.webhook.disabled_reason)).toEqual(["gone"]);

    // Disabled by hand: no reason.
    const off = await t.api(`/webhooks/${endpoint.id}`, { method: "PATCH", body: { active: true } });
    expect(off.body.data.webhook.disabled_reason).toBeNull();
    const manual = await t.api(`/webhooks/${endpoint.id}`, { method: "PATCH", body: { active: false } });
    expect(manual.body.data.webhook).toMatchObject({ active: false, disabled_reason: null });
  });
});
