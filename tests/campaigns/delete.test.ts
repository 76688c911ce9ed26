import { describe, expect, it } from "vitest";
import { call, gatewaySession } from "../support/gateway.ts";
import { db, insertCampaign, newKey, newTenant } from "../support/fixtures.ts";

const s = gatewaySession();

const del = (id: string, key = s.tenant.key) => call(`${s.gateway.url}/v1/campaigns/${id}`, { method: "DELETE", key });

async function subscribe(workspaceId: string, events: string[]) {
  await db()`insert into public.webhook_endpoints (workspace_id, url, events, secret)
             values (${workspaceId}, ${`https://hooks.example.com/${crypto.randomUUID()}`}, ${events}, 'whsec_x')`;
}

describe("DELETE /v1/campaigns/{id} (the seed's page)", () => {
  it("deletes a draft: 200 with the documented body, the row is gone", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const res = await del(id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(res.body).toEqual({ data: { deleted: true, id } });
    expect(await db()`select 1 from public.campaigns where id = ${id}`).toHaveLength(0);
  });

  it("answers on the deployed path prefix too", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const res = await call(`${s.gateway.url.replace("/functions/v1", "")}/v1/campaigns/${id}`, {
      method: "DELETE",
      key: s.tenant.key,
    });
    expect(res.status).toBe(200);
  });

  it.each(["active", "paused", "completed", "pending_approval"])("refuses a %s campaign with 409", async (status) => {
    const id = await insertCampaign(s.tenant.workspaceId, { status });
    const res = await del(id);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("campaign_not_draft");
    expect(res.body.error.details).toEqual({ status });
    expect(res.body.error.message).toContain(status);
    expect(await db()`select 1 from public.campaigns where id = ${id}`).toHaveLength(1);
  });

  it("404 for an unknown id, a non-UUID id, and another workspace's campaign", async () => {
    const other = await newTenant();
    const theirs = await insertCampaign(other.workspaceId);
    for (const id of [crypto.randomUUID(), "cmp_abc123", theirs]) {
      const res = await del(id);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: "campaign_not_found", message: "No campaign with this ID" } });
    }
    expect(await db()`select 1 from public.campaigns where id = ${theirs}`).toHaveLength(1);
  });

  it("403 without campaigns:write, naming the permission", async () => {
    const readOnly = await newKey(s.tenant, ["campaigns:read"]);
    const id = await insertCampaign(s.tenant.workspaceId);
    const res = await del(id, readOnly);
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({
      code: "insufficient_permissions",
      message: "Missing required permission: campaigns:write",
    });
  });

  it("401 for missing, malformed, unknown, revoked and expired keys", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const url = `${s.gateway.url}/v1/campaigns/${id}`;
    const missing = await call(url, { method: "DELETE" });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe("missing_auth");
    const notBearer = await call(url, { method: "DELETE", headers: { Authorization: `Basic ${s.tenant.key}` } });
    expect(notBearer.body.error.code).toBe("missing_auth");

    const revoked = await newKey(s.tenant, ["campaigns:write"]);
    await db()`update public.api_keys set revoked_at = now() where prefix = ${revoked.slice(0, 12)}`;
    const expired = await newKey(s.tenant, ["campaigns:write"]);
    await db()`update public.api_keys set expires_at = now() - interval '1 second' where prefix = ${
      expired.slice(0, 12)
    }`;
    const typo = s.tenant.key.slice(0, -1) + (s.tenant.key.endsWith("a") ? "b" : "a");
    for (const key of ["wbk_your_api_key_here", typo, revoked, expired, `wbk_${"A".repeat(36)}`]) {
      const res = await del(id, key);
      expect(res.status, key.slice(0, 12)).toBe(401);
      expect(res.body.error).toEqual({ code: "invalid_key", message: "Invalid or expired API key" });
    }
    expect(await db()`select 1 from public.campaigns where id = ${id}`).toHaveLength(1);
  });

  it("writes one event and one delivery per subscribed endpoint; a refused delete writes none", async () => {
    const t = await newTenant();
    await subscribe(t.workspaceId, ["campaign.deleted"]);
    await subscribe(t.workspaceId, ["campaign.deleted", "campaign.started"]);
    await subscribe(t.workspaceId, ["campaign.started"]);
    const draft = await insertCampaign(t.workspaceId, { name: "to delete" });
    const active = await insertCampaign(t.workspaceId, { status: "active" });

    expect((await del(active, t.key)).status).toBe(409);
    expect((await del(draft, t.key)).status).toBe(200);

    const events = await db()`select id, event, data from public.webhook_events where workspace_id = ${t.workspaceId}`;
    expect(events).toHaveLength(1);
    expect(events[0].event).toBe("campaign.deleted");
    expect(events[0].data.campaign).toMatchObject({ id: draft, name: "to delete", status: "draft" });
    const deliveries = await db()`select status from public.webhook_deliveries where event_id = ${events[0].id}`;
    expect(deliveries.map((d) => d.status)).toEqual(["pending", "pending"]);
  });

  it("20 concurrent deletes of one draft: exactly one 200, nineteen 404", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => del(id)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 404)).toHaveLength(19);
  });

  it("a delete racing a start: exactly one of them is applied", async () => {
    for (let round = 0; round < 10; round++) {
      const id = await insertCampaign(s.tenant.workspaceId);
      const [deleted, started] = await Promise.all([
        del(id),
        call(`${s.gateway.url}/v1/campaigns/${id}/start`, { method: "POST", key: s.tenant.key }),
      ]);
      const [row] = await db()`select status from public.campaigns where id = ${id}`;
      if (deleted.status === 200) {
        expect(started.status).toBe(404);
        expect(row).toBeUndefined();
      } else {
        expect(deleted.status).toBe(409);
        expect(started.status).toBe(200);
        expect(row.status).toBe("active");
      }
    }
  });

  it("logs one JSON line with request id, route, status, workspace and key prefix, never the key", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const res = await del(id);
    const line = s.gateway.logs.find((l) => l.request_id === res.headers.get("x-request-id"));
    expect(line).toMatchObject({
      method: "DELETE",
      route: "/functions/v1/api-gateway/v1/campaigns/:id",
      status: 200,
      workspace_id: s.tenant.workspaceId,
      key_prefix: s.tenant.key.slice(0, 12),
    });
    expect(JSON.stringify(s.gateway.logs)).not.toContain(s.tenant.key);
  });
});
