import { describe, expect, it } from "vitest";
import { expectError } from "../support/assertions.ts";
import { outboxSuite } from "../support/outbox-suite.ts";

// POST /v1/webhooks/{id}/recover through the gateway, and the recovered deliveries sent again by the dispatcher to
// a real receiver. The dispatcher drains the whole outbox, so this suite has a database of its own.
const outbox = outboxSuite({ allowPrivateWebhookUrls: true });

const statuses = (endpointId: string) =>
  outbox.pdb.sql<{ id: string; status: string; attempts: number }[]>`
    select id, status, attempts from public.webhook_deliveries where endpoint_id = ${endpointId} order by created_at, id`;

describe("POST /v1/webhooks/{id}/recover", () => {
  it("re-queues the failed deliveries of the window under the same ids; dry_run only counts", async () => {
    const t = await outbox.tenant();
    // Down for the first three requests, then back.
    const receiver = await outbox.receiver((_, index) => (index < 3 ? { status: 503 } : { status: 200 }));
    const hook = await t.hook(receiver.url);
    const d = await outbox.dispatcher({ settings: { retryDelaysSeconds: [] } });
    for (const name of ["old", "a", "b"]) await t.campaign(name);
    expect(await d.drain()).toMatchObject({ claimed: 3, failed: 3 });
    const [old, ...recent] = await statuses(hook.id);
    await outbox.pdb
      .sql`update public.webhook_deliveries set created_at = now() - interval '2 days' where id = ${old.id}`;
    const since = new Date(Date.now() - 86_400_000).toISOString();
    const recover = (body: unknown) => t.api(`/webhooks/${hook.id}/recover`, { method: "POST", body });

    const kicks = outbox.gateway.kicks;
    const dry = await recover({ since, dry_run: true });
    expect(dry.status).toBe(202);
    expect(dry.body).toEqual({ data: { count: 2, has_more: false } });
    expect(outbox.gateway.kicks).toBe(kicks);
    expect((await statuses(hook.id)).map((r) => r.status)).toEqual(["failed", "failed", "failed"]);
    // A window that ends before them finds none, and wakes nothing.
    expect((await recover({ since, until: since })).body).toEqual({ data: { count: 0, has_more: false } });
    expect(outbox.gateway.kicks).toBe(kicks);

    const res = await recover({ since, until: new Date(Date.now() + 60_000).toISOString() });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ data: { count: 2, has_more: false } });
    expect(outbox.gateway.kicks).toBe(kicks + 1);
    expect(await statuses(hook.id)).toEqual([
      { id: old.id, status: "failed", attempts: 1 },
      ...recent.map(({ id }) => ({ id, status: "pending", attempts: 0 })),
    ]);

    expect(await d.drain()).toMatchObject({ claimed: 2, delivered: 2 });
    const counts = receiver.countsById();
    expect(counts.get(old.id)).toBe(1);
    for (const { id } of recent) expect(counts.get(id)).toBe(2);
    const listed = (await t.api(`/webhooks/${hook.id}/deliveries`)).body.data.deliveries;
    expect(listed.map((r: { status: string }) => r.status).sort()).toEqual(["failed", "success", "success"]);
    const one = (await t.api(`/webhooks/${hook.id}/deliveries/${recent[0].id}`)).body.data;
    expect(one.delivery).toMatchObject({ status: "success", attempts: 2, last_status_code: 200 });
    expect(one.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([503, 200]);
    // Nothing failed is left in the window.
    expect((await recover({ since })).body).toEqual({ data: { count: 0, has_more: false } });
  });

  it.each([
    ["no since", {}],
    ["since not a time", { since: "yesterday" }],
    ["an impossible date", { since: "2026-02-30T00:00:00Z" }],
    ["a time without a zone", { since: "2026-01-01T00:00:00" }],
    ["year 0, which Postgres has not", { since: "0000-01-01T00:00:00Z" }],
    ["a time that is year 10000 in UTC", { since: "9999-12-31T23:00:00-02:00" }],
    ["until before since", { since: "2026-01-02T00:00:00Z", until: "2026-01-01T23:59:59Z" }],
    ["until before since, in another zone", { since: "2026-01-02T00:00:00+02:00", until: "2026-01-01T21:00:00Z" }],
    ["dry_run not a boolean", { since: "2026-01-01T00:00:00Z", dry_run: "yes" }],
    ["an unknown field", { since: "2026-01-01T00:00:00Z", status: "failed" }],
    ["not an object", ["2026-01-01T00:00:00Z"]],
  ])("400 validation_error for %s", async (_, body) => {
    const t = await outbox.tenant();
    const hook = await t.hook("http://127.0.0.1:9/hooks");
    expectError(await t.api(`/webhooks/${hook.id}/recover`, { method: "POST", body }), 400, "validation_error");
  });

  it("404 webhook_not_found for another workspace's endpoint, which keeps its failed deliveries", async () => {
    const owner = await outbox.tenant();
    const other = await outbox.tenant();
    const receiver = await outbox.receiver(() => ({ status: 500 }));
    const hook = await owner.hook(receiver.url);
    const d = await outbox.dispatcher({ settings: { retryDelaysSeconds: [] } });
    await owner.campaign("x");
    expect(await d.drain()).toMatchObject({ failed: 1 });
    const res = await other.api(`/webhooks/${hook.id}/recover`, {
      method: "POST",
      body: { since: "2000-01-01T00:00:00Z" },
    });
    expectError(res, 404, "webhook_not_found");
    expect((await statuses(hook.id)).map((r) => r.status)).toEqual(["failed"]);
  });

  it("works in batches of 1,000, oldest first, and says when more remain", async () => {
    const t = await outbox.tenant();
    const hook = await t.hook("http://127.0.0.1:9/hooks");
    // 1,001 failed deliveries of one event, written straight into the outbox: sending them is not the point here.
    await outbox.pdb.sql`
      with event as (insert into public.webhook_events (workspace_id, event, data)
                     values (${t.workspaceId}, 'campaign.created', '{"campaign":{}}') returning id)
      insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts, completed_at, created_at)
      select ${t.workspaceId}, event.id, ${hook.id}, 'failed', 6, now(), now() - make_interval(secs => n)
        from event, generate_series(1, 1001) as n`;
    const recover = () =>
      t.api(`/webhooks/${hook.id}/recover`, { method: "POST", body: { since: "2000-01-01T00:00:00Z" } });

    expect((await recover()).body).toEqual({ data: { count: 1000, has_more: true } });
    const [newest] = await outbox.pdb.sql<{ status: string }[]>`
      select status from public.webhook_deliveries where endpoint_id = ${hook.id} order by created_at desc limit 1`;
    expect(newest.status).toBe("failed");
    expect((await recover()).body).toEqual({ data: { count: 1, has_more: false } });
    expect((await statuses(hook.id)).filter((r) => r.status !== "pending")).toEqual([]);
  });

  it("409 webhook_disabled for a disabled endpoint, whose failed deliveries stay as they are", async () => {
    const t = await outbox.tenant();
    const receiver = await outbox.receiver(() => ({ status: 500 }));
    const hook = await t.hook(receiver.url);
    const d = await outbox.dispatcher({ settings: { retryDelaysSeconds: [] } });
    await t.campaign("x");
    expect(await d.drain()).toMatchObject({ failed: 1 });
    expect((await t.api(`/webhooks/${hook.id}`, { method: "PATCH", body: { active: false } })).status).toBe(200);

    for (const dry_run of [true, false]) {
      const res = await t.api(`/webhooks/${hook.id}/recover`, {
        method: "POST",
        body: { since: "2000-01-01T00:00:00Z", dry_run },
      });
      expectError(res, 409, "webhook_disabled");
      expect(res.body.error.message).toMatch(/Enable it first/);
    }
    expect((await statuses(hook.id)).map((r) => r.status)).toEqual(["failed"]);
  });
});
