import { describe, expect, it } from "vitest";
import { expectGatewayHeaders, ISO_UTC, statusCounts } from "../support/assertions.ts";
import {
  campaignsSession,
  expectCampaignNotFound,
  expectEventFired,
  expectRefusedChange,
} from "../support/campaigns.ts";
import { db, eventsOf, insertCampaign } from "../support/fixtures.ts";

const s = campaignsSession();

describe("POST /v1/campaigns/{id}/start", () => {
  it("starts a draft: {campaign_id, status: active, task_id: null}; the campaign shows started_at", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const res = await s.api.start(id);
    expect(res.status).toBe(200);
    expectGatewayHeaders(res);
    expect(res.body).toEqual({ data: { campaign_id: id, status: "active", task_id: null } });
    const campaign = (await s.api.get(id)).body.data.campaign;
    expect(campaign).toMatchObject({ status: "active", paused_at: null });
    expect(campaign.started_at).toMatch(ISO_UTC);
  });

  it("restarts a paused campaign: started_at moves on, paused_at keeps the last pause", async () => {
    const id = await insertCampaign(s.tenant.workspaceId, { status: "paused" });
    await db()`update public.campaigns set started_at = '2026-01-01T00:00:00Z', paused_at = '2026-01-02T00:00:00Z'
                where id = ${id}`;
    const res = await s.api.start(id);
    expect(res.body).toEqual({ data: { campaign_id: id, status: "active", task_id: null } });
    const campaign = (await s.api.get(id)).body.data.campaign;
    expect(campaign.paused_at).toBe("2026-01-02T00:00:00.000Z");
    expect(Date.parse(campaign.started_at)).toBeGreaterThan(Date.parse(campaign.paused_at));
  });

  it.each(["active", "pending_approval", "completed"])(
    "409 campaign_not_startable for a %s campaign; nothing changes, no event",
    async (status) => {
      const id = await insertCampaign(s.tenant.workspaceId, { status });
      await expectRefusedChange(await s.api.start(id), "campaign_not_startable", {
        id,
        workspaceId: s.tenant.workspaceId,
        status,
      });
    },
  );

  it("404 campaign_not_found for an unknown id and an id that is not a UUID", async () => {
    for (const id of [crypto.randomUUID(), "cmp_abc123"]) {
      expectCampaignNotFound(await s.api.start(id));
    }
  });

  it("fires campaign.started: one event carrying data.campaign; kicks the dispatcher only when a delivery was queued", async () => {
    await expectEventFired(s.gateway, "campaign.started", async (observed, t) => {
      const id = await insertCampaign(t.workspaceId);
      expect((await observed.start(id)).status).toBe(200);
      return id;
    });
  });

  it("10 concurrent starts of one draft: exactly one succeeds, one event", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const responses = await Promise.all(Array.from({ length: 10 }, () => s.api.start(id)));
    expect(statusCounts(responses)).toEqual({ 200: 1, 409: 9 });
    for (const res of responses.filter((r) => r.status === 409)) {
      expect(res.body.error.details).toEqual({ status: "active" });
    }
    expect((await eventsOf(s.tenant.workspaceId, id)).map((e) => e.event)).toEqual(["campaign.started"]);
  });
});
