import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectFieldErrors, expectGatewayHeaders } from "../support/assertions.ts";
import { campaignsApi, expectCampaignObject } from "../support/campaigns.ts";
import { insertCampaign, newTenant, type TestTenant } from "../support/fixtures.ts";
import { type RunningGateway, startGateway } from "../support/gateway.ts";

let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway.close());

/** A fresh workspace with campaigns created a day apart, in the given statuses; ids returned newest first. */
async function workspaceWith(statuses: string[]): Promise<{ tenant: TestTenant; newestFirst: string[] }> {
  const tenant = await newTenant();
  const ids: string[] = [];
  for (const [i, status] of statuses.entries()) {
    ids.push(
      await insertCampaign(tenant.workspaceId, {
        status,
        createdAt: `2026-01-${String(i + 1).padStart(2, "0")}T12:00:00Z`,
      }),
    );
  }
  return { tenant, newestFirst: ids.reverse() };
}

const ids = (res: { body: { data: { campaigns: { id: string }[] } } }) => res.body.data.campaigns.map((c) => c.id);

describe("GET /v1/campaigns", () => {
  it("lists the workspace's campaigns newest first, with default paging in meta", async () => {
    const { tenant, newestFirst } = await workspaceWith(["draft", "active", "paused"]);
    await insertCampaign((await newTenant()).workspaceId);
    const res = await campaignsApi(gateway, tenant.key).list();
    expect(res.status).toBe(200);
    expectGatewayHeaders(res);
    expect(Object.keys(res.body).sort()).toEqual(["data", "meta"]);
    expect(ids(res)).toEqual(newestFirst);
    expect(res.body.meta).toEqual({ page: 1, per_page: 50, total: 3 });
    for (const campaign of res.body.data.campaigns) expectCampaignObject(campaign);
    expect(res.body.data.campaigns[0].created_at).toBe("2026-01-03T12:00:00.000Z");
  });

  it("an empty workspace gets an empty list and total 0", async () => {
    const res = await campaignsApi(gateway, (await newTenant()).key).list();
    expect(res.body).toEqual({ data: { campaigns: [] }, meta: { page: 1, per_page: 50, total: 0 } });
  });

  it("filters by status; total counts the filtered campaigns", async () => {
    const { tenant, newestFirst } = await workspaceWith(["active", "draft", "active", "completed", "pending_approval"]);
    const api = campaignsApi(gateway, tenant.key);
    const active = await api.list("status=active");
    expect(ids(active)).toEqual([newestFirst[2], newestFirst[4]]);
    expect(active.body.meta).toEqual({ page: 1, per_page: 50, total: 2 });
    expect(ids(await api.list("status=pending_approval"))).toEqual([newestFirst[0]]);
    const paused = await api.list("status=paused");
    expect(paused.body).toEqual({ data: { campaigns: [] }, meta: { page: 1, per_page: 50, total: 0 } });
  });

  it("pages with page and per_page; a page past the end is empty", async () => {
    const { tenant, newestFirst } = await workspaceWith(["draft", "draft", "draft", "draft", "draft"]);
    const api = campaignsApi(gateway, tenant.key);
    const pages = [];
    for (const page of [1, 2, 3, 4]) pages.push(await api.list(`page=${page}&per_page=2`));
    expect(pages.map(ids)).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4), []]);
    expect(pages.map((p) => p.body.meta)).toEqual([1, 2, 3, 4].map((page) => ({ page, per_page: 2, total: 5 })));
    expect(ids(await api.list("per_page=100"))).toEqual(newestFirst);
    expect(ids(await api.list("status=draft&page=2&per_page=4"))).toEqual(newestFirst.slice(4));
  });

  it("any page number >= 1 is valid, however far past the end", async () => {
    const { tenant } = await workspaceWith(["draft"]);
    for (
      const query of ["page=3000000000", "page=30000000&per_page=100", `page=${Number.MAX_SAFE_INTEGER}&per_page=100`]
    ) {
      const res = await campaignsApi(gateway, tenant.key).list(query);
      expect(res.status, query).toBe(200);
      expect(res.body.data.campaigns).toEqual([]);
      expect(res.body.meta.total).toBe(1);
    }
  });

  it.each([
    ["page=0", "page"],
    ["page=-1", "page"],
    ["page=abc", "page"],
    ["page=1.5", "page"],
    ["page=", "page"],
    ["per_page=0", "per_page"],
    ["per_page=101", "per_page"],
    ["per_page=ten", "per_page"],
    ["status=archived", "status"],
    ["status=ACTIVE", "status"],
    ["sort=name", "sort"],
    ["page=0&per_page=500&status=x&limit=5", "page,per_page,status,limit"],
  ])("400 validation_error for ?%s", async (query, fields) => {
    const res = await campaignsApi(gateway, (await newTenant()).key).list(query);
    const problems = expectFieldErrors(res, fields.split(","));
    if (fields === "status") expect(problems.status).toContain("draft, pending_approval, active, paused, completed");
    if (fields === "sort") expect(problems.sort).toBe("Unknown field");
  });
});
