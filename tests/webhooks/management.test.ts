import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUBSCRIBABLE_EVENTS, TEST_EVENT } from "@shared/webhooks/events.ts";
import type { Webhook } from "@gateway/routes/v1/webhooks/schema.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { db, newTenant, type TestTenant } from "../support/fixtures.ts";
import { expectFieldErrors } from "../support/assertions.ts";
import { walkByCursor } from "../support/cursor-walk.ts";

// Offline DNS: one public and one private answer, anything else does not resolve.
const DNS: Record<string, string[]> = {
  "receiver.example.com": ["93.184.216.34"],
  "intranet.example.com": ["10.0.0.5"],
};
const resolveHost = (host: string) => Promise.resolve(DNS[host] ?? []);

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const hookUrl = () => `https://receiver.example.com/hooks/${crypto.randomUUID()}`;

let gateway: RunningGateway;
let tenant: TestTenant;

beforeAll(async () => {
  gateway = await startGateway({ resolveHost });
  tenant = await newTenant();
});
afterAll(() => gateway.close());

function hooks(path = "", init: Parameters<typeof call>[1] = {}, base = gateway.url) {
  return call(`${base}/v1/webhooks${path}`, { key: tenant.key, ...init });
}

async function createHook(t: TestTenant = tenant, body: Record<string, unknown> = {}) {
  const res = await hooks("", {
    method: "POST",
    key: t.key,
    body: { url: hookUrl(), events: ["campaign.created"], ...body },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.webhook as Webhook & { secret: string };
}

/** A delivery of a fresh event to `endpointId`, in the given state. */
async function insertDelivery(t: TestTenant, endpointId: string, status = "pending", event = "campaign.created") {
  const [row] = await db()<{ id: string }[]>`
    with ev as (insert into public.webhook_events (workspace_id, event, data)
                values (${t.workspaceId}, ${event}, '{}') returning id)
    insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts, lease_expires_at,
                                           next_attempt_at, completed_at)
    select ${t.workspaceId}, ev.id, ${endpointId}, ${status}, 6, now() + interval '1 minute',
           now() + interval '1 day', case when ${status} = 'pending' then null else now() end
      from ev
    returning id`;
  return row.id;
}

async function insertAttempt(
  deliveryId: string,
  endpointId: string,
  fields: { attempt: number; status: string; created_at: string; status_code?: number; error?: string },
) {
  await db()`
    insert into public.webhook_attempts (delivery_id, endpoint_id, attempt, status, status_code, error, response_body,
                                         duration_ms, next_attempt_at, created_at)
    values (${deliveryId}, ${endpointId}, ${fields.attempt}, ${fields.status}, ${fields.status_code ?? null},
            ${fields.error ?? null}, ${fields.status === "success" ? "ok" : null}, 42,
            ${fields.status === "pending" ? "2026-01-01T01:00:00Z" : null}, ${fields.created_at})`;
}

describe("POST /v1/webhooks", () => {
  it("201 with the webhook and its secret, which no later response shows", async () => {
    const url = hookUrl();
    const res = await hooks("", {
      method: "POST",
      body: { url, events: ["campaign.deleted", "campaign.started"], description: "CRM sync" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const webhook = res.body.data.webhook;
    expect(Object.keys(webhook).sort()).toEqual(
      ["active", "created_at", "description", "disabled_reason", "events", "id", "secret", "updated_at", "url"],
    );
    expect(webhook).toMatchObject({
      url,
      events: ["campaign.deleted", "campaign.started"],
      description: "CRM sync",
      active: true,
      disabled_reason: null,
    });
    expect(webhook.created_at).toMatch(ISO_MS);
    expect(webhook.updated_at).toMatch(ISO_MS);
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(webhook.secret.slice("whsec_".length), "base64")).toHaveLength(32);
    const [row] = await db()`select secret from public.webhook_endpoints where id = ${webhook.id}`;
    expect(row.secret).toBe(webhook.secret);

    const got = await hooks(`/${webhook.id}`);
    expect(got.status).toBe(200);
    const { secret: _secret, ...withoutSecret } = webhook;
    expect(got.body).toEqual({ data: { webhook: withoutSecret } });
    const listed = await hooks();
    expect(listed.text).toContain(webhook.id);
    for (const text of [got.text, listed.text]) expect(text).not.toContain(webhook.secret.slice(6));
  });

  it("defaults: active true, description null, duplicate events collapsed", async () => {
    const webhook = await createHook(tenant, { events: ["campaign.paused", "campaign.paused"] });
    expect(webhook).toMatchObject({ active: true, description: null, events: ["campaign.paused"] });
    const inactive = await createHook(tenant, { active: false, events: [...SUBSCRIBABLE_EVENTS] });
    expect(inactive).toMatchObject({ active: false, events: [...SUBSCRIBABLE_EVENTS] });
  });

  it.each([
    ["http://", "http://receiver.example.com/hook", "https://"],
    ["not a URL", "receiver.example.com/hook", "Not a valid URL"],
    ["credentials", "https://user:pw@receiver.example.com/hook", "credentials"],
    ["a private IP literal", "https://10.1.2.3/hook", "10.1.2.3 is a private address"],
    ["a loopback IPv6 literal", "https://[::1]/hook", "::1 is a loopback address"],
    ["cloud metadata", "https://169.254.169.254/latest", "169.254.169.254 is a link-local address"],
    ["cloud metadata through NAT64", "https://[64:ff9b::169.254.169.254]/latest", "is a link-local address"],
    ["a benchmarking address", "https://198.18.0.1/hook", "is a special-purpose address"],
    ["localhost", "https://localhost/hook", "localhost"],
    [
      "a host resolving to a private address",
      "https://intranet.example.com/hook",
      "intranet.example.com resolves to a private address",
    ],
    ["a host that does not resolve", "https://nowhere.example.com/hook", "Cannot resolve nowhere.example.com"],
    ["the SMTP port 25", "https://receiver.example.com:25/hook", "Port 25 is not allowed"],
    ["the SMTP submission port 587", "https://receiver.example.com:587/hook", "Port 587 is not allowed"],
    ["a non-string", 42, "https://"],
    ["a missing url", undefined, "https://"],
  ])("400 invalid_url for %s", async (_, url, reason) => {
    const res = await hooks("", { method: "POST", body: { url, events: ["campaign.created"] } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_url");
    expect(res.body.error.message).toContain(reason);
    expect(res.body.error.details.fields.url).toBe(res.body.error.message);
  });

  it("a refusal names the rule, never what our resolver answered", async () => {
    const res = await hooks("", {
      method: "POST",
      body: { url: "https://intranet.example.com/", events: ["campaign.created"] },
    });
    expect(res.body.error.code).toBe("invalid_url");
    expect(res.text).not.toContain("10.0.0.5");
  });

  it("limits the URL to 2048 characters as typed and 2048 bytes once normalised: 400 invalid_url, never a 500", async () => {
    const base = "https://receiver.example.com/";
    // 1,500 CJK characters are 1,529 characters as typed and 13,529 bytes once percent-encoded.
    const cjk = `${base}${"漢".repeat(1500)}`;
    const longest = `${base}${"a".repeat(2048 - base.length)}`;
    const webhook = await createHook(tenant, { url: longest });
    expect(webhook.url).toBe(longest);
    const cases = [
      [cjk, "Must be at most 2048 bytes once normalised"],
      [`${base}${"a ".repeat(600)}z`, "Must be at most 2048 bytes once normalised"],
      // The document's maxLength, refused before the URL is even parsed.
      [`${longest}a`, "Must be at most 2048 characters"],
    ];
    for (const [url, message] of cases) {
      const created = await hooks("", { method: "POST", body: { url, events: ["campaign.created"] } });
      const updated = await hooks(`/${webhook.id}`, { method: "PATCH", body: { url } });
      for (const res of [created, updated]) {
        expect(res.status, res.text).toBe(400);
        expect(res.body.error.code).toBe("invalid_url");
        expect(res.body.error.message).toBe(message);
      }
    }
  });

  it("400 naming unknown fields called like Object.prototype's members, on update too", async () => {
    const webhook = await createHook();
    const res = await hooks(`/${webhook.id}`, { method: "PATCH", body: '{"constructor":1,"__proto__":2}' });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "validation_error",
      details: { fields: { constructor: "Unknown field", ["__proto__"]: "Unknown field" } },
    });
    expect(Object.keys(res.body.error.details.fields)).toEqual(["constructor", "__proto__"]);
  });

  it.each([
    ["an empty list", []],
    ["an unknown event", ["campaign.created", "campaign.exploded"]],
    ["the test event", [TEST_EVENT]],
    ["a string instead of a list", "campaign.created"],
    ["a non-string element", [1]],
    ["a missing list", undefined],
  ])("400 invalid_events for %s", async (_, events) => {
    const res = await hooks("", { method: "POST", body: { url: hookUrl(), events } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_events");
    expect(res.body.error.message).toContain(SUBSCRIBABLE_EVENTS.join(", "));
  });

  it.each([
    ["an unknown field", { secret: "whsec_mine" }, "secret", "Unknown field"],
    ["a long description", { description: "x".repeat(201) }, "description", "Must be at most 200 characters"],
    ["a non-boolean active", { active: "yes" }, "active", "expected boolean"],
  ])("400 validation_error for %s", async (_, extra, field, problem) => {
    const res = await hooks("", { method: "POST", body: { url: hookUrl(), events: ["campaign.created"], ...extra } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "validation_error", message: "Invalid webhook" });
    expect(res.body.error.details.fields[field]).toContain(problem);
  });

  it("400 validation_error when url and events are both wrong, or the body is not an object", async () => {
    const both = await hooks("", { method: "POST", body: { url: 42, events: [] } });
    expect(both.body.error.code).toBe("validation_error");
    const array = await hooks("", { method: "POST", body: [] });
    expect(array.body.error.code).toBe("validation_error");
  });

  it("a refused create writes nothing", async () => {
    const t = await newTenant();
    await hooks("", { method: "POST", key: t.key, body: { url: "https://10.0.0.1/", events: ["campaign.created"] } });
    await hooks("", { method: "POST", key: t.key, body: { url: hookUrl(), events: [] } });
    expect(await db()`select 1 from public.webhook_endpoints where workspace_id = ${t.workspaceId}`).toHaveLength(0);
  });

  it("409 duplicate_webhook for the same URL in the workspace, spelled differently or not", async () => {
    const webhook = await createHook();
    for (const url of [webhook.url, webhook.url.replace("receiver.example.com", "RECEIVER.example.com:443")]) {
      const res = await hooks("", { method: "POST", body: { url, events: ["campaign.paused"] } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("duplicate_webhook");
    }
    const other = await newTenant();
    await createHook(other, { url: webhook.url });
  });

  it("the URL of a deleted webhook can be registered again", async () => {
    const webhook = await createHook();
    expect((await hooks(`/${webhook.id}`, { method: "DELETE" })).status).toBe(200);
    const again = await createHook(tenant, { url: webhook.url });
    expect(again.id).not.toBe(webhook.id);
  });

  it("5 concurrent creates of one URL: exactly one 201, four 409", async () => {
    const t = await newTenant();
    const url = hookUrl();
    const statuses = (await Promise.all(
      Array.from(
        { length: 5 },
        () => hooks("", { method: "POST", key: t.key, body: { url, events: ["campaign.created"] } }),
      ),
    )).map((r) => r.status);
    expect(statuses.sort()).toEqual([201, 409, 409, 409, 409]);
    expect(await db()`select 1 from public.webhook_endpoints where workspace_id = ${t.workspaceId}`).toHaveLength(1);
  });

  it("409 webhook_limit_reached past the workspace's endpoint limit, racing creates included", async () => {
    const t = await newTenant();
    const [{ limit }] = await db()<{ limit: number }[]>`
      select webhook_endpoint_limit as limit from public.workspaces where id = ${t.workspaceId}`;
    expect(limit).toBe(20);
    await db()`update public.workspaces set webhook_endpoint_limit = 3 where id = ${t.workspaceId}`;
    const first = await createHook(t);
    // Four at once for the two places left: exactly two get them.
    const statuses = (await Promise.all(
      Array.from(
        { length: 4 },
        () => hooks("", { method: "POST", key: t.key, body: { url: hookUrl(), events: ["campaign.created"] } }),
      ),
    )).map((r) => r.status);
    expect(statuses.sort()).toEqual([201, 201, 409, 409]);

    const refused = await hooks("", {
      method: "POST",
      key: t.key,
      body: { url: hookUrl(), events: ["campaign.created"] },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: "webhook_limit_reached",
      message: "This workspace already has 3 webhook endpoints, its limit. Delete one, or ask support for more.",
      details: { limit: 3 },
    });
    // A deleted endpoint frees its place.
    expect((await hooks(`/${first.id}`, { method: "DELETE", key: t.key })).status).toBe(200);
    await createHook(t);
  });
});

describe("with WEBHOOK_ALLOW_PRIVATE_URLS", () => {
  let local: RunningGateway;
  beforeAll(async () => {
    local = await startGateway({ resolveHost, allowPrivateWebhookUrls: true });
  });
  afterAll(() => local.close());

  it("admits http:// on loopback and private hosts", async () => {
    for (const url of ["http://127.0.0.1:8787/hook", "http://intranet.example.com/hook"]) {
      const res = await hooks("", { method: "POST", body: { url, events: ["campaign.created"] } }, local.url);
      expect(res.status, url).toBe(201);
      expect(res.body.data.webhook.url).toBe(url);
    }
  });

  it.each(["http://169.254.169.254/latest/meta-data", "http://224.0.0.1/", "http://0.0.0.0/"])(
    "still refuses %s",
    async (url) => {
      const res = await hooks("", { method: "POST", body: { url, events: ["campaign.created"] } }, local.url);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_url");
    },
  );
});

describe("GET /v1/webhooks", () => {
  it("newest first, paginated, with the latest attempt's status and time", async () => {
    const t = await newTenant();
    const first = await createHook(t);
    const second = await createHook(t);
    const third = await createHook(t);
    await db()`update public.webhook_endpoints set created_at = now() - interval '1 hour' where id = ${first.id}`;
    const gone = await createHook(t);
    await hooks(`/${gone.id}`, { method: "DELETE", key: t.key });
    const delivery = await insertDelivery(t, second.id, "success");
    await insertAttempt(delivery, second.id, { attempt: 1, status: "failed", created_at: "2026-01-01T00:00:00.000Z" });
    await insertAttempt(delivery, second.id, { attempt: 2, status: "success", created_at: "2026-01-01T00:00:30.250Z" });

    const page1 = await hooks("?per_page=2", { key: t.key });
    expect(page1.status).toBe(200);
    expect(page1.body.meta).toEqual({ page: 1, per_page: 2, total: 3, next_cursor: expect.any(String) });
    expect(page1.body.data.webhooks.map((w: { id: string }) => w.id)).toEqual([third.id, second.id]);
    const listedSecond = page1.body.data.webhooks.find((w: { id: string }) => w.id === second.id);
    expect(listedSecond).toMatchObject({
      last_delivery_status: "success",
      last_delivery_at: "2026-01-01T00:00:30.250Z",
    });
    expect(listedSecond).not.toHaveProperty("secret");
    const listedThird = page1.body.data.webhooks.find((w: { id: string }) => w.id === third.id);
    expect(listedThird).toMatchObject({ last_delivery_status: null, last_delivery_at: null });

    const page2 = await hooks("?per_page=2&page=2", { key: t.key });
    expect(page2.body.meta).toEqual({ page: 2, per_page: 2, total: 3, next_cursor: null });
    expect(page2.body.data.webhooks.map((w: { id: string }) => w.id)).toEqual([first.id]);
    const farPast = await hooks("?page=3000000000", { key: t.key });
    expect(farPast.body).toEqual({
      data: { webhooks: [] },
      meta: { page: 3000000000, per_page: 50, total: 3, next_cursor: null },
    });
  });

  it("shows only the caller's workspace; bad paging is 400", async () => {
    const t = await newTenant();
    await createHook();
    expect((await hooks("", { key: t.key })).body).toEqual({
      data: { webhooks: [] },
      meta: { page: 1, per_page: 50, total: 0, next_cursor: null },
    });
    for (const query of ["?per_page=101", "?page=0", "?status=failed"]) {
      const res = await hooks(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("validation_error");
    }
  });
});

describe("GET, PATCH and DELETE /v1/webhooks/{id}", () => {
  it("404 webhook_not_found for an unknown, non-UUID, deleted or another workspace's id", async () => {
    const other = await newTenant();
    const theirs = await createHook(other);
    const deleted = await createHook();
    await hooks(`/${deleted.id}`, { method: "DELETE" });
    for (const id of [crypto.randomUUID(), "wh_123", theirs.id, deleted.id]) {
      for (const [method, body] of [["GET"], ["PATCH", { active: false }], ["DELETE"]] as const) {
        const res = await hooks(`/${id}`, { method, body });
        expect(res.status, `${method} ${id}`).toBe(404);
        expect(res.body).toEqual({ error: { code: "webhook_not_found", message: "No webhook with this ID" } });
      }
    }
    const [row] = await db()`select active, deleted_at from public.webhook_endpoints where id = ${theirs.id}`;
    expect(row).toEqual({ active: true, deleted_at: null });
  });

  it("PATCH changes the given fields, replaces events, keeps the secret", async () => {
    const webhook = await createHook(tenant, { events: ["campaign.created", "campaign.started"], description: "a" });
    const url = hookUrl();
    const res = await hooks(`/${webhook.id}`, {
      method: "PATCH",
      body: { url, events: ["campaign.paused"], active: false },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.webhook).toMatchObject({
      id: webhook.id,
      url,
      events: ["campaign.paused"],
      description: "a",
      active: false,
      created_at: webhook.created_at,
    });
    expect(res.body.data.webhook).not.toHaveProperty("secret");
    expect(res.body.data.webhook.updated_at > webhook.updated_at).toBe(true);

    const cleared = await hooks(`/${webhook.id}`, { method: "PATCH", body: { description: null } });
    expect(cleared.body.data.webhook).toMatchObject({ description: null, url, events: ["campaign.paused"] });
    const [row] = await db()`select secret from public.webhook_endpoints where id = ${webhook.id}`;
    expect(row.secret).toBe(webhook.secret);
  });

  it("PATCH applies the create rules: invalid_url, invalid_events, validation_error, 409 duplicate", async () => {
    const webhook = await createHook();
    const taken = await createHook();
    const cases: [unknown, number, string][] = [
      [{ url: "https://intranet.example.com/x" }, 400, "invalid_url"],
      [{ url: "http://receiver.example.com/x" }, 400, "invalid_url"],
      [{ events: [] }, 400, "invalid_events"],
      [{ events: ["campaign.archived"] }, 400, "invalid_events"],
      [{ secret: "whsec_mine" }, 400, "validation_error"],
      [{ description: 5 }, 400, "validation_error"],
      [{ url: taken.url }, 409, "duplicate_webhook"],
    ];
    for (const [body, status, code] of cases) {
      const res = await hooks(`/${webhook.id}`, { method: "PATCH", body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const same = await hooks(`/${webhook.id}`, { method: "PATCH", body: { url: webhook.url } });
    expect(same.status).toBe(200);
    const [row] = await db()`select url, events from public.webhook_endpoints where id = ${webhook.id}`;
    expect(row).toEqual({ url: webhook.url, events: ["campaign.created"] });
  });

  it("DELETE soft-deletes and cancels only the pending deliveries, in one go", async () => {
    const t = await newTenant();
    const webhook = await createHook(t);
    const bystander = await createHook(t);
    const pending = [await insertDelivery(t, webhook.id), await insertDelivery(t, webhook.id)];
    const delivered = await insertDelivery(t, webhook.id, "success");
    const failed = await insertDelivery(t, webhook.id, "failed");
    const othersPending = await insertDelivery(t, bystander.id);
    await insertAttempt(failed, webhook.id, { attempt: 1, status: "failed", created_at: "2026-01-01T00:00:00Z" });

    const res = await hooks(`/${webhook.id}`, { method: "DELETE", key: t.key });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { deleted: true, id: webhook.id } });

    const rows = await db()`select id, status, lease_expires_at, completed_at from public.webhook_deliveries
                            where workspace_id = ${t.workspaceId}`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of pending) {
      expect(byId.get(id)).toMatchObject({ status: "cancelled", lease_expires_at: null });
      expect(byId.get(id)!.completed_at).toBeInstanceOf(Date);
    }
    expect(byId.get(delivered)!.status).toBe("success");
    expect(byId.get(failed)!.status).toBe("failed");
    expect(byId.get(othersPending)!.status).toBe("pending");
    const [endpoint] = await db()`select deleted_at from public.webhook_endpoints where id = ${webhook.id}`;
    expect(endpoint.deleted_at).toBeInstanceOf(Date);
    expect(await db()`select 1 from public.webhook_attempts where delivery_id = ${failed}`).toHaveLength(1);

    expect((await hooks(`/${webhook.id}`, { key: t.key })).status).toBe(404);
    expect((await hooks(`/${webhook.id}`, { method: "DELETE", key: t.key })).status).toBe(404);
    expect((await hooks(`/${webhook.id}/logs`, { key: t.key })).status).toBe(404);
    expect((await hooks(`/${webhook.id}/test`, { method: "POST", key: t.key })).status).toBe(404);
  });
});

describe("GET /v1/webhooks/{id}/logs", () => {
  let t: TestTenant;
  let webhookId: string;
  let first: string;
  let second: string;

  beforeAll(async () => {
    t = await newTenant();
    webhookId = (await createHook(t)).id;
    first = await insertDelivery(t, webhookId, "failed", "campaign.started");
    second = await insertDelivery(t, webhookId, "success", "campaign.paused");
    await insertAttempt(first, webhookId, {
      attempt: 1,
      status: "pending",
      status_code: 500,
      error: "http_error",
      created_at: "2026-01-01T00:00:01.000Z",
    });
    await insertAttempt(first, webhookId, {
      attempt: 2,
      status: "failed",
      error: "timeout",
      created_at: "2026-01-01T00:00:03.000Z",
    });
    await insertAttempt(second, webhookId, {
      attempt: 1,
      status: "success",
      status_code: 200,
      created_at: "2026-01-01T00:00:02.000Z",
    });
  });

  const logs = (query = "") => hooks(`/${webhookId}/logs${query}`, { key: t.key });

  it("one row per attempt, newest first, in the contract's shape", async () => {
    const res = await logs();
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({ page: 1, per_page: 50, total: 3, next_cursor: null });
    expect(res.body.data.logs).toEqual([
      {
        delivery_id: first,
        event: "campaign.started",
        attempt: 2,
        status: "failed",
        status_code: null,
        error: "timeout",
        response_body: null,
        duration_ms: 42,
        created_at: "2026-01-01T00:00:03.000Z",
        next_attempt_at: null,
      },
      {
        delivery_id: second,
        event: "campaign.paused",
        attempt: 1,
        status: "success",
        status_code: 200,
        error: null,
        response_body: "ok",
        duration_ms: 42,
        created_at: "2026-01-01T00:00:02.000Z",
        next_attempt_at: null,
      },
      {
        delivery_id: first,
        event: "campaign.started",
        attempt: 1,
        status: "pending",
        status_code: 500,
        error: "http_error",
        response_body: null,
        duration_ms: 42,
        created_at: "2026-01-01T00:00:01.000Z",
        next_attempt_at: "2026-01-01T01:00:00.000Z",
      },
    ]);
  });

  it("filters by status and paginates", async () => {
    for (const status of ["success", "failed", "pending"]) {
      const res = await logs(`?status=${status}`);
      expect(res.body.meta.total, status).toBe(1);
      expect(res.body.data.logs.map((l: { status: string }) => l.status)).toEqual([status]);
    }
    const page2 = await logs("?per_page=2&page=2");
    expect(page2.body.meta).toEqual({ page: 2, per_page: 2, total: 3, next_cursor: null });
    expect(page2.body.data.logs.map((l: { attempt: number }) => l.attempt)).toEqual([1]);
    expect(page2.body.data.logs[0].created_at).toBe("2026-01-01T00:00:01.000Z");
    expect((await logs("?page=3000000000")).body).toEqual({
      data: { logs: [] },
      meta: { page: 3000000000, per_page: 50, total: 3, next_cursor: null },
    });
  });

  it("walks by cursor: every attempt once, newest first; a cursor of another list or webhook is 400", async () => {
    const all = (await logs()).body.data.logs;
    const pages = await walkByCursor((query) => logs(`?${query}`), "per_page=1");
    expect(pages.flatMap((page) => page.body.data.logs)).toEqual(all);
    const cursor = pages[0].body.meta.next_cursor;
    const deliveriesCursor = (await hooks(`/${webhookId}/deliveries?per_page=1`, { key: t.key })).body.meta.next_cursor;
    expect(expectFieldErrors(await logs(`?cursor=${deliveriesCursor}`), ["cursor"]).cursor)
      .toBe("Must be the meta.next_cursor of an earlier page, unchanged");
    expect(expectFieldErrors(await logs(`?status=failed&cursor=${cursor}`), ["cursor"]).cursor)
      .toMatch(/issued for other filters/);
    // Another webhook of the workspace: the cursor is a position only, and that webhook has no attempts.
    const other = (await createHook(t)).id;
    const res = await hooks(`/${other}/logs?cursor=${cursor}`, { key: t.key });
    expect(res.body).toEqual({ data: { logs: [] }, meta: { per_page: 50, next_cursor: null } });
  });

  it("400 for an unknown status or paging, 404 for another workspace", async () => {
    for (const query of ["?status=cancelled", "?per_page=0", "?since=yesterday"]) {
      const res = await logs(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("validation_error");
    }
    const res = await hooks(`/${webhookId}/logs`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("webhook_not_found");
  });
});

describe("GET /v1/webhooks/{id}/deliveries and /deliveries/{delivery_id}", () => {
  let t: TestTenant;
  let webhookId: string;
  let failed: string;
  let succeeded: string;
  let pending: string;

  beforeAll(async () => {
    t = await newTenant();
    webhookId = (await createHook(t)).id;
    failed = await insertDelivery(t, webhookId, "failed", "campaign.started");
    succeeded = await insertDelivery(t, webhookId, "success", "campaign.paused");
    pending = await insertDelivery(t, webhookId, "pending", "campaign.deleted");
    await db()`update public.webhook_deliveries set created_at = '2026-01-01T00:00:00Z', completed_at = '2026-01-01T00:00:09Z'
                where id = ${failed}`;
    await db()`update public.webhook_deliveries set created_at = '2026-01-02T00:00:00Z', completed_at = '2026-01-02T00:00:01Z'
                where id = ${succeeded}`;
    await db()`update public.webhook_deliveries set created_at = '2026-01-03T00:00:00Z', next_attempt_at = '2026-01-03T00:10:00Z'
                where id = ${pending}`;
    await insertAttempt(failed, webhookId, {
      attempt: 1,
      status: "failed",
      status_code: 500,
      error: "http_error",
      created_at: "2026-01-01T00:00:01.000Z",
    });
    await insertAttempt(failed, webhookId, {
      attempt: 2,
      status: "failed",
      error: "timeout",
      created_at: "2026-01-01T00:00:09.000Z",
    });
    await insertAttempt(succeeded, webhookId, {
      attempt: 1,
      status: "success",
      status_code: 204,
      created_at: "2026-01-02T00:00:01.000Z",
    });
  });

  const deliveries = (query = "", key = t.key) => hooks(`/${webhookId}/deliveries${query}`, { key });

  it("one row per delivery, newest first, with its attempts, last status code and next attempt time", async () => {
    const res = await deliveries();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: {
        deliveries: [
          {
            delivery_id: pending,
            event: "campaign.deleted",
            status: "pending",
            attempts: 0,
            last_status_code: null,
            next_attempt_at: "2026-01-03T00:10:00.000Z",
            created_at: "2026-01-03T00:00:00.000Z",
            completed_at: null,
            // insertDelivery leases it, so that no dispatcher sharing this database takes it.
            waiting_on: "in_flight",
          },
          {
            delivery_id: succeeded,
            event: "campaign.paused",
            status: "success",
            attempts: 1,
            last_status_code: 204,
            next_attempt_at: null,
            waiting_on: null,
            created_at: "2026-01-02T00:00:00.000Z",
            completed_at: "2026-01-02T00:00:01.000Z",
          },
          {
            // The latest attempt timed out: no status code, though an earlier one had one.
            delivery_id: failed,
            event: "campaign.started",
            status: "failed",
            attempts: 2,
            last_status_code: null,
            next_attempt_at: null,
            waiting_on: null,
            created_at: "2026-01-01T00:00:00.000Z",
            completed_at: "2026-01-01T00:00:09.000Z",
          },
        ],
      },
      meta: { page: 1, per_page: 50, total: 3, next_cursor: null },
    });
  });

  it("filters by the delivery's status and paginates", async () => {
    for (
      const [status, expected] of [["pending", [pending]], ["success", [succeeded]], ["failed", [failed]], [
        "cancelled",
        [],
      ]]
    ) {
      const res = await deliveries(`?status=${status}`);
      expect(res.body.meta.total, String(status)).toBe(expected.length);
      expect(res.body.data.deliveries.map((d: { delivery_id: string }) => d.delivery_id)).toEqual(expected);
    }
    const page2 = await deliveries("?per_page=2&page=2");
    expect(page2.body.meta).toEqual({ page: 2, per_page: 2, total: 3, next_cursor: null });
    expect(page2.body.data.deliveries.map((d: { delivery_id: string }) => d.delivery_id)).toEqual([failed]);
  });

  it("walks by cursor: every delivery once, also those of one event (created at one instant)", async () => {
    const tenant = await newTenant();
    const hook = (await createHook(tenant)).id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await insertDelivery(tenant, hook, i % 2 ? "failed" : "pending"));
    await db()`update public.webhook_deliveries set created_at = '2026-01-05T00:00:00.5Z' where endpoint_id = ${hook}`;
    const list = (query: string) => hooks(`/${hook}/deliveries?${query}`, { key: tenant.key });
    const walked = (pages: { body: { data: { deliveries: { delivery_id: string }[] } } }[]) =>
      pages.flatMap((page) => page.body.data.deliveries.map((d) => d.delivery_id));
    expect(walked(await walkByCursor(list, "per_page=2"))).toEqual([...ids].sort().reverse());
    expect(walked(await walkByCursor(list, "status=pending&per_page=1")))
      .toEqual(ids.filter((_, i) => i % 2 === 0).sort().reverse());
    const res = await deliveries("?cursor=" + (await list("per_page=1")).body.meta.next_cursor + "&page=1");
    expect(expectFieldErrors(res, ["cursor"]).cursor).toBe("Send either cursor or page, not both");
  });

  it("the single view adds its attempts, oldest first", async () => {
    const res = await hooks(`/${webhookId}/deliveries/${failed}`, { key: t.key });
    expect(res.status).toBe(200);
    const listed = (await deliveries("?status=failed")).body.data.deliveries[0];
    expect(res.body.data.delivery).toEqual(listed);
    expect(res.body.data.attempts).toEqual([
      {
        delivery_id: failed,
        event: "campaign.started",
        attempt: 1,
        status: "failed",
        status_code: 500,
        error: "http_error",
        response_body: null,
        duration_ms: 42,
        created_at: "2026-01-01T00:00:01.000Z",
        next_attempt_at: null,
      },
      {
        delivery_id: failed,
        event: "campaign.started",
        attempt: 2,
        status: "failed",
        status_code: null,
        error: "timeout",
        response_body: null,
        duration_ms: 42,
        created_at: "2026-01-01T00:00:09.000Z",
        next_attempt_at: null,
      },
    ]);
    const none = await hooks(`/${webhookId}/deliveries/${pending}`, { key: t.key });
    expect(none.body.data.attempts).toEqual([]);
  });

  it("400 for an unknown status or paging; 404 webhook_not_found / delivery_not_found", async () => {
    for (const query of ["?status=done", "?per_page=101", "?since=yesterday"]) {
      const res = await deliveries(query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("validation_error");
    }
    const theirs = await deliveries("", tenant.key);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe("webhook_not_found");
    const sibling = await createHook(t);
    const siblings = await insertDelivery(t, sibling.id, "failed");
    for (const deliveryId of [crypto.randomUUID(), "dlv_1", siblings]) {
      const res = await hooks(`/${webhookId}/deliveries/${deliveryId}`, { key: t.key });
      expect(res.status, deliveryId).toBe(404);
      expect(res.body.error.code).toBe("delivery_not_found");
    }
    const res = await hooks(`/${webhookId}/deliveries/${failed}`, { key: tenant.key });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("webhook_not_found");
  });
});

describe("POST /v1/webhooks/{id}/test", () => {
  it("202 with the delivery id: one webhook.test delivery to this endpoint only, and a dispatcher kick", async () => {
    const t = await newTenant();
    const target = await createHook(t, { events: ["campaign.created"] });
    await createHook(t, { events: [...SUBSCRIBABLE_EVENTS] });
    const kicks = gateway.kicks;

    const res = await hooks(`/${target.id}/test`, { method: "POST", key: t.key });
    expect(res.status).toBe(202);
    expect(Object.keys(res.body.data)).toEqual(["delivery_id"]);
    expect(gateway.kicks).toBe(kicks + 1);

    const deliveries = await db()`
      select d.id, d.endpoint_id, d.status, e.event, e.data from public.webhook_deliveries d
        join public.webhook_events e on e.id = d.event_id
       where d.workspace_id = ${t.workspaceId}`;
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      id: res.body.data.delivery_id,
      endpoint_id: target.id,
      status: "pending",
      event: TEST_EVENT,
    });
    expect(deliveries[0].data.webhook).toMatchObject({ id: target.id, url: target.url });
    expect(JSON.stringify(deliveries[0].data)).not.toContain(target.secret);
  });

  it("404 for another workspace's endpoint, and nothing is queued", async () => {
    const other = await newTenant();
    const theirs = await createHook(other);
    const kicks = gateway.kicks;
    const res = await hooks(`/${theirs.id}/test`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("webhook_not_found");
    expect(gateway.kicks).toBe(kicks);
    expect(await db()`select 1 from public.webhook_deliveries where endpoint_id = ${theirs.id}`).toHaveLength(0);
  });
});

describe("POST /v1/webhooks/{id}/deliveries/{delivery_id}/retry", () => {
  const retry = (webhookId: string, deliveryId: string, key = tenant.key) =>
    hooks(`/${webhookId}/deliveries/${deliveryId}/retry`, { method: "POST", key });

  it("202: a failed delivery is pending again with a fresh set of attempts, and the dispatcher is kicked", async () => {
    const webhook = await createHook();
    const delivery = await insertDelivery(tenant, webhook.id, "failed");
    const kicks = gateway.kicks;
    const res = await retry(webhook.id, delivery);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ data: { delivery_id: delivery } });
    expect(gateway.kicks).toBe(kicks + 1);
    const [row] = await db()`
      select status, attempts, lease_expires_at, completed_at, next_attempt_at <= now() as due
        from public.webhook_deliveries where id = ${delivery}`;
    expect(row).toEqual({ status: "pending", attempts: 0, lease_expires_at: null, completed_at: null, due: true });
  });

  it.each(["pending", "success", "cancelled"])(
    "409 delivery_not_failed for a %s delivery, unchanged",
    async (status) => {
      const webhook = await createHook();
      const delivery = await insertDelivery(tenant, webhook.id, status);
      const res = await retry(webhook.id, delivery);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("delivery_not_failed");
      expect(res.body.error.details).toEqual({ status });
      const [row] = await db()`select status, attempts from public.webhook_deliveries where id = ${delivery}`;
      expect(row).toEqual({ status, attempts: 6 });
    },
  );

  it("404 delivery_not_found / webhook_not_found", async () => {
    const webhook = await createHook();
    const sibling = await createHook();
    const siblings = await insertDelivery(tenant, sibling.id, "failed");
    for (const deliveryId of [crypto.randomUUID(), "dlv_1", siblings]) {
      const res = await retry(webhook.id, deliveryId);
      expect(res.status, deliveryId).toBe(404);
      expect(res.body.error.code).toBe("delivery_not_found");
    }
    const other = await newTenant();
    const theirs = await createHook(other);
    const theirDelivery = await insertDelivery(other, theirs.id, "failed");
    for (const webhookId of [crypto.randomUUID(), "wh_1", theirs.id]) {
      const res = await retry(webhookId, theirDelivery);
      expect(res.status, webhookId).toBe(404);
      expect(res.body.error.code).toBe("webhook_not_found");
    }
    const [row] = await db()`select status from public.webhook_deliveries where id = ${theirDelivery}`;
    expect(row.status).toBe("failed");
  });
});
