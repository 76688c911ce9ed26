import { describe, expect, it } from "vitest";
import { expectError, expectFieldErrors, expectGatewayHeaders } from "../support/assertions.ts";
import {
  campaignsSession,
  EDGE_CAMPAIGN_FIELDS,
  expectCampaignNotFound,
  expectCampaignObject,
  INVALID_CAMPAIGN_BODIES,
} from "../support/campaigns.ts";
import { db, insertCampaign } from "../support/fixtures.ts";

const s = campaignsSession();

/** A campaign created through the API, with its timestamps moved an hour back so a change is visible. */
async function existing(fields: Record<string, unknown> = {}) {
  const id = (await s.api.create({ name: "Original", description: "keep me", daily_send_limit: 20, ...fields }))
    .body.data.campaign.id as string;
  await db()`update public.campaigns set created_at = created_at - interval '1 hour',
                                         updated_at = updated_at - interval '1 hour' where id = ${id}`;
  return (await s.api.get(id)).body.data.campaign;
}

describe("PATCH /v1/campaigns/{id}", () => {
  it("changes only the fields given and returns the whole campaign with a new updated_at", async () => {
    const before = await existing();
    const res = await s.api.update(before.id, {
      name: "Renamed",
      send_on_weekends: true,
      sending_timezone: "europe/paris",
    });
    expect(res.status).toBe(200);
    expectGatewayHeaders(res);
    expect(Object.keys(res.body)).toEqual(["data"]);
    const after = res.body.data.campaign;
    expectCampaignObject(after);
    const { updated_at: updatedBefore, ...unchanged } = before;
    expect(after).toEqual({
      ...unchanged,
      name: "Renamed",
      send_on_weekends: true,
      sending_timezone: "Europe/Paris",
      updated_at: expect.any(String),
    });
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(updatedBefore));
    expect((await s.api.get(before.id)).body.data.campaign).toEqual(after);
  });

  it("null clears description and template", async () => {
    const before = await existing({ template: "Hi {{first_name}}" });
    const res = await s.api.update(before.id, { description: null, template: null });
    expect(res.status).toBe(200);
    expect(res.body.data.campaign).toMatchObject({ description: null, template: null, name: "Original" });
  });

  it("an empty object changes nothing but updated_at", async () => {
    const before = await existing();
    const res = await s.api.update(before.id, {});
    expect(res.status).toBe(200);
    expect({ ...res.body.data.campaign, updated_at: before.updated_at }).toEqual(before);
  });

  it("accepts every field at the edges of its range", async () => {
    const before = await existing();
    const res = await s.api.update(before.id, EDGE_CAMPAIGN_FIELDS);
    expect(res.status).toBe(200);
    expect(res.body.data.campaign).toMatchObject(EDGE_CAMPAIGN_FIELDS);
  });

  it.each(["draft", "pending_approval", "active", "paused"])(
    "a %s campaign can be edited; its status stays",
    async (status) => {
      const id = await insertCampaign(s.tenant.workspaceId, { status });
      const res = await s.api.update(id, { daily_send_limit: 99 });
      expect(res.status).toBe(200);
      expect(res.body.data.campaign).toMatchObject({ status, daily_send_limit: 99 });
    },
  );

  it("409 campaign_completed for a completed campaign, which stays as it was", async () => {
    const id = await insertCampaign(s.tenant.workspaceId, { status: "completed", name: "Done" });
    const error = expectError(await s.api.update(id, { name: "Changed" }), 409, "campaign_completed");
    expect(error.details).toEqual({ status: "completed" });
    const [row] = await db()`select name, status from public.campaigns where id = ${id}`;
    expect(row).toEqual({ name: "Done", status: "completed" });
  });

  it.each(INVALID_CAMPAIGN_BODIES)("400 for $why; the campaign is unchanged", async ({ body, fields, code }) => {
    const before = await existing();
    expectFieldErrors(await s.api.update(before.id, body), fields, code);
    expect((await s.api.get(before.id)).body.data.campaign).toEqual(before);
  });

  it("404 campaign_not_found for an unknown id and for an id that is not a UUID", async () => {
    for (const id of [crypto.randomUUID(), "cmp_abc123"]) {
      expectCampaignNotFound(await s.api.update(id, { name: "x" }));
    }
  });

  it("an invalid body is a 400 before the id is looked at (validation precedes the resource)", async () => {
    for (const id of [crypto.randomUUID(), "cmp_abc123"]) {
      expectFieldErrors(await s.api.update(id, { colour: "red" }), ["colour"]);
    }
  });
});
