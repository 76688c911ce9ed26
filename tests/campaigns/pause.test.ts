import { describe, expect, it } from "vitest";
import { expectGatewayHeaders, ISO_UTC, statusCounts } from "../support/assertions.ts";
import {
  campaignsSession,
  campaignStatus,
  expectCampaignNotFound,
  expectEventFired,
  expectRefusedChange,
} from "../support/campaigns.ts";
import { db, eventsOf, insertCampaign } from "../support/fixtures.ts";

const s = campaignsSession();

describe("POST /v1/campaigns/{id}/pause", () => {
  it("pauses an active campaign: {campaign: {id, status: paused, paused_at}}", async () => {
    const id = await insertCampaign(s.tenant.workspaceId, { status: "active" });
    await db()`update public.campaigns set started_at = '2026-01-01T00:00:00Z' where id = ${id}`;
    const res = await s.api.pause(id);
    expect(res.status).toBe(200);
    expectGatewayHeaders(res);
    expect(res.body).toEqual({
      data: { campaign: { id, status: "paused", paused_at: expect.stringMatching(ISO_UTC) } },
    });
    const campaign = (await s.api.get(id)).body.data.campaign;
    expect(campaign).toMatchObject({
      status: "paused",
      paused_at: res.body.data.campaign.paused_at,
      started_at: "2026-01-01T00:00:00.000Z",
    });
  });

  it("pauses a pending_approval campaign, which counts as active", async () => {
    const id = await insertCampaign(s.tenant.workspaceId, { status: "pending_approval" });
    const res = await s.api.pause(id);
    expect(res.status).toBe(200);
    expect(res.body.data.campaign.status).toBe("paused");
    expect(await campaignStatus(id)).toBe("paused");
  });

  it.each(["draft", "paused", "completed"])(
    "409 campaign_not_active for a %s campaign; nothing changes, no event",
    async (status) => {
      const id = await insertCampaign(s.tenant.workspaceId, { status });
      await expectRefusedChange(await s.api.pause(id), "campaign_not_active", {
        id,
        workspaceId: s.tenant.workspaceId,
        status,
      });
    },
  );

  it("404 campaign_not_found for an unknown id and an id that is not a UUID", async () => {
    for (const id of [crypto.randomUUID(), "cmp_abc123"]) {
      expectCampaignNotFound(await s.api.pause(id));
    }
  });

  it("fires campaign.paused: one event carrying data.campaign; kicks the dispatcher only when a delivery was queued", async () => {
    await expectEventFired(s.gateway, "campaign.paused", async (observed, t) => {
      const id = await insertCampaign(t.workspaceId, { status: "active" });
      expect((await observed.pause(id)).status).toBe(200);
      return id;
    });
  });

  it("10 concurrent pauses of one active campaign: exactly one succeeds, one event", async () => {
    const id = await insertCampaign(s.tenant.workspaceId, { status: "active" });
    const responses = await Promise.all(Array.from({ length: 10 }, () => s.api.pause(id)));
    expect(statusCounts(responses)).toEqual({ 200: 1, 409: 9 });
    for (const res of responses.filter((r) => r.status === 409)) {
      expect(res.body.error.details).toEqual({ status: "paused" });
    }
    expect((await eventsOf(s.tenant.workspaceId, id)).map((e) => e.event)).toEqual(["campaign.paused"]);
  });
});
