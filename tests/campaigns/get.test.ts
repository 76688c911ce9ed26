import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGatewayHeaders } from "../support/assertions.ts";
import { campaignsApi, expectCampaignNotFound } from "../support/campaigns.ts";
import { insertCampaign, newTenant, type TestTenant } from "../support/fixtures.ts";
import { type RunningGateway, startGateway } from "../support/gateway.ts";
import { securitySuite } from "../support/security-suite.ts";

let gateway: RunningGateway;
let tenant: TestTenant;
let api: ReturnType<typeof campaignsApi>;

beforeAll(async () => {
  gateway = await startGateway();
  tenant = await newTenant();
  api = campaignsApi(gateway, tenant.key);
});
afterAll(() => gateway.close());

securitySuite({
  method: "GET",
  path: async (workspaceId) => `/v1/campaigns/${await insertCampaign(workspaceId)}`,
  permission: "campaigns:read",
  notFoundCode: "campaign_not_found",
});

describe("GET /v1/campaigns/{id}", () => {
  it("200 with data.campaign, the same object create returned", async () => {
    const created = (await api.create({ name: "Fetched", description: "about", sending_timezone: "Asia/Tokyo" }))
      .body.data.campaign;
    const res = await api.get(created.id);
    expect(res.status).toBe(200);
    expectGatewayHeaders(res);
    expect(res.body).toEqual({ data: { campaign: created } });
  });

  it("accepts the id in upper case and answers with the canonical id", async () => {
    const id = await insertCampaign(tenant.workspaceId);
    const res = await api.get(id.toUpperCase());
    expect(res.status).toBe(200);
    expect(res.body.data.campaign.id).toBe(id);
  });

  it("404 campaign_not_found for an unknown id and for ids that are not UUIDs", async () => {
    for (const id of [crypto.randomUUID(), "cmp_abc123", "123", "00000000-0000-0000-0000-00000000000g"]) {
      expectCampaignNotFound(await api.get(id));
    }
  });
});
