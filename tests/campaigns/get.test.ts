import { describe, expect, it } from "vitest";
import { expectGatewayHeaders } from "../support/assertions.ts";
import { campaignsSession, expectCampaignNotFound } from "../support/campaigns.ts";
import { insertCampaign } from "../support/fixtures.ts";

const s = campaignsSession();

describe("GET /v1/campaigns/{id}", () => {
  it("200 with data.campaign, the same object create returned", async () => {
    const created = (await s.api.create({ name: "Fetched", description: "about", sending_timezone: "Asia/Tokyo" }))
      .body.data.campaign;
    const res = await s.api.get(created.id);
    expect(res.status).toBe(200);
    expectGatewayHeaders(res);
    expect(res.body).toEqual({ data: { campaign: created } });
  });

  it("accepts the id in upper case and answers with the canonical id", async () => {
    const id = await insertCampaign(s.tenant.workspaceId);
    const res = await s.api.get(id.toUpperCase());
    expect(res.status).toBe(200);
    expect(res.body.data.campaign.id).toBe(id);
  });

  it("404 campaign_not_found for an unknown id and for ids that are not UUIDs", async () => {
    for (const id of [crypto.randomUUID(), "cmp_abc123", "123", "00000000-0000-0000-0000-00000000000g"]) {
      expectCampaignNotFound(await s.api.get(id));
    }
  });
});
