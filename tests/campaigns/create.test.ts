import { describe, expect, it } from "vitest";
import { expectError, expectFieldErrors, expectGatewayHeaders } from "../support/assertions.ts";
import {
  campaignsApi,
  campaignsSession,
  EDGE_CAMPAIGN_FIELDS,
  expectCampaignObject,
  expectEventFired,
  INVALID_CAMPAIGN_BODIES,
} from "../support/campaigns.ts";
import { db, eventsOf, newTenant } from "../support/fixtures.ts";
import { call } from "../support/gateway.ts";

const s = campaignsSession();

async function campaignCount(workspaceId: string): Promise<number> {
  const [row] = await db()<{ n: number }[]>`
    select count(*)::int as n from public.campaigns where workspace_id = ${workspaceId}`;
  return row.n;
}

describe("POST /v1/campaigns", () => {
  it("201 with data.campaign: every field, the defaults, draft status, ISO UTC timestamps", async () => {
    const res = await s.api.create({ name: "Spring launch" });
    expect(res.status).toBe(201);
    expectGatewayHeaders(res);
    expect(Object.keys(res.body)).toEqual(["data"]);
    expect(Object.keys(res.body.data)).toEqual(["campaign"]);
    const campaign = res.body.data.campaign;
    expectCampaignObject(campaign, {
      name: "Spring launch",
      description: null,
      template: null,
      status: "draft",
      daily_send_limit: 50,
      delay_between_emails: 60,
      sending_timezone: "UTC",
      send_on_weekends: false,
      track_opens: true,
      track_clicks: true,
      show_unsubscribe: true,
      started_at: null,
      paused_at: null,
    });
    expect(campaign.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(campaign.updated_at).toBe(campaign.created_at);

    const [row] = await db()`select workspace_id, status from public.campaigns where id = ${campaign.id}`;
    expect(row).toEqual({ workspace_id: s.tenant.workspaceId, status: "draft" });
    expect((await s.api.get(campaign.id)).body.data.campaign).toEqual(campaign);
  });

  it("stores and returns every writable field, at the edges of their ranges", async () => {
    const fields = {
      ...EDGE_CAMPAIGN_FIELDS,
      sending_timezone: "America/New_York",
      send_on_weekends: true,
      track_opens: false,
      track_clicks: false,
      show_unsubscribe: false,
    };
    const res = await s.api.create(fields);
    expect(res.status).toBe(201);
    expectCampaignObject(res.body.data.campaign, { ...fields, status: "draft" });
    expect((await s.api.create({ name: "n", daily_send_limit: 1, description: null, template: null })).status).toBe(
      201,
    );
  });

  it("counts name length in characters, not UTF-16 units", async () => {
    const res = await s.api.create({ name: "😀".repeat(200) });
    expect(res.status).toBe(201);
    expect(res.body.data.campaign.name).toBe("😀".repeat(200));
  });

  it("stores a time zone under its canonical IANA name", async () => {
    const res = await s.api.create({ name: "x", sending_timezone: "europe/berlin" });
    expect(res.status).toBe(201);
    expect(res.body.data.campaign.sending_timezone).toBe("Europe/Berlin");
  });

  it("400 validation_error when name is missing", async () => {
    const fields = expectFieldErrors(await s.api.create({ description: "no name" }), ["name"]);
    expect(fields.name).toBe("Required");
  });

  it.each(INVALID_CAMPAIGN_BODIES)(
    "400 for $why, naming the field; nothing is created",
    async ({ body, fields, code }) => {
      const t = await newTenant();
      const res = await campaignsApi(s.gateway, t.key).create(body);
      const problems = expectFieldErrors(res, fields, code);
      for (const problem of Object.values(problems)) expect(problem.length).toBeGreaterThan(0);
      if (code) expect(res.body.error.message).toBe(problems[fields[0]]);
      expect(await campaignCount(t.workspaceId)).toBe(0);
      expect(await eventsOf(t.workspaceId)).toEqual([]);
    },
  );

  it("invalid_timezone names the zone it did not know", async () => {
    const error = expectError(
      await s.api.create({ name: "x", sending_timezone: "Mars/Olympus_Mons" }),
      400,
      "invalid_timezone",
    );
    expect(error.message).toContain("Mars/Olympus_Mons");
  });

  it("fires campaign.created: one event carrying data.campaign; kicks the dispatcher only when a delivery was queued", async () => {
    await expectEventFired(s.gateway, "campaign.created", async (observed) => {
      const res = await observed.create({ name: "observed" });
      expect(res.status).toBe(201);
      return res.body.data.campaign.id;
    });
  });

  it("answers on the deployed path prefix too", async () => {
    const res = await call(`${s.gateway.url.replace("/functions/v1", "")}/v1/campaigns`, {
      method: "POST",
      key: s.tenant.key,
      body: { name: "deployed" },
    });
    expect(res.status).toBe(201);
  });
});
