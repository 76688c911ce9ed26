import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectFieldErrors, expectGatewayHeaders } from "../support/assertions.ts";
import { campaignsApi, expectCampaignObject } from "../support/campaigns.ts";
import { walkByCursor } from "../support/cursor-walk.ts";
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
    expect(res.body.meta).toEqual({ page: 1, per_page: 50, total: 3, next_cursor: null });
    for (const campaign of res.body.data.campaigns) expectCampaignObject(campaign);
    expect(res.body.data.campaigns[0].created_at).toBe("2026-01-03T12:00:00.000Z");
  });

  it("an empty workspace gets an empty list and total 0", async () => {
    const res = await campaignsApi(gateway, (await newTenant()).key).list();
    expect(res.body).toEqual({ data: { campaigns: [] }, meta: { page: 1, per_page: 50, total: 0, next_cursor: null } });
  });

  it("filters by status; total counts the filtered campaigns", async () => {
    const { tenant, newestFirst } = await workspaceWith(["active", "draft", "active", "completed", "pending_approval"]);
    const api = campaignsApi(gateway, tenant.key);
    const active = await api.list("status=active");
    expect(ids(active)).toEqual([newestFirst[2], newestFirst[4]]);
    expect(active.body.meta).toEqual({ page: 1, per_page: 50, total: 2, next_cursor: null });
    expect(ids(await api.list("status=pending_approval"))).toEqual([newestFirst[0]]);
    const paused = await api.list("status=paused");
    expect(paused.body).toEqual({
      data: { campaigns: [] },
      meta: { page: 1, per_page: 50, total: 0, next_cursor: null },
    });
  });

  it("pages with page and per_page; a page past the end is empty", async () => {
    const { tenant, newestFirst } = await workspaceWith(["draft", "draft", "draft", "draft", "draft"]);
    const api = campaignsApi(gateway, tenant.key);
    const pages = [];
    for (const page of [1, 2, 3, 4]) pages.push(await api.list(`page=${page}&per_page=2`));
    expect(pages.map(ids)).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4), []]);
    expect(pages.map((p) => p.body.meta)).toEqual(
      [1, 2, 3, 4].map((page) => ({ page, per_page: 2, total: 5, next_cursor: page < 3 ? expect.any(String) : null })),
    );
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
    ["cursor=not-a-cursor", "cursor"],
    ["cursor=&page=1", "cursor"],
    [`cursor=${"a".repeat(513)}`, "cursor"],
  ])("400 validation_error for ?%s", async (query, fields) => {
    const res = await campaignsApi(gateway, (await newTenant()).key).list(query);
    const problems = expectFieldErrors(res, fields.split(","));
    if (fields === "status") expect(problems.status).toContain("draft, pending_approval, active, paused, completed");
    if (fields === "sort") expect(problems.sort).toBe("Unknown field");
  });
});

describe("GET /v1/campaigns by cursor", () => {
  const walk = (key: string, query: string, between?: () => Promise<unknown>) =>
    walkByCursor((q) => campaignsApi(gateway, key).list(q), query, between);

  it("walks every campaign once, newest first, with no total; the last page's next_cursor is null", async () => {
    const { tenant, newestFirst } = await workspaceWith(["draft", "active", "paused", "draft", "active"]);
    const pages = await walk(tenant.key, "per_page=2");
    expect(pages.map(ids)).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
    expect(pages[0].body.meta).toEqual({ page: 1, per_page: 2, total: 5, next_cursor: expect.any(String) });
    expect(pages[1].body.meta).toEqual({ per_page: 2, next_cursor: expect.any(String) });
    expect(pages[2].body.meta).toEqual({ per_page: 2, next_cursor: null });
    for (const page of pages.slice(1)) expectGatewayHeaders(page);
  });

  it("starts from an empty cursor: the first page by cursor, without a total, then the same walk", async () => {
    const { tenant, newestFirst } = await workspaceWith(["draft", "active", "paused", "draft", "active"]);
    const api = campaignsApi(gateway, tenant.key);
    const pages = [await api.list("per_page=2&cursor=")];
    while (pages.at(-1)!.body.meta.next_cursor) {
      pages.push(await api.list(`per_page=2&cursor=${pages.at(-1)!.body.meta.next_cursor}`));
    }
    expect(pages.map(ids)).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
    expect(pages.map((page) => page.body.meta)).toEqual([
      { per_page: 2, next_cursor: expect.any(String) },
      { per_page: 2, next_cursor: expect.any(String) },
      { per_page: 2, next_cursor: null },
    ]);
  });

  it("keeps the filter it was issued with, and per_page may change on the way", async () => {
    const { tenant, newestFirst } = await workspaceWith(["active", "draft", "active", "active", "draft", "active"]);
    const api = campaignsApi(gateway, tenant.key);
    const first = await api.list("status=active&per_page=1");
    const rest = await api.list(`status=active&per_page=10&cursor=${first.body.meta.next_cursor}`);
    expect([...ids(first), ...ids(rest)]).toEqual([newestFirst[0], newestFirst[2], newestFirst[3], newestFirst[5]]);
    expect(rest.body.meta).toEqual({ per_page: 10, next_cursor: null });
  });

  it("returns each campaign exactly once while campaigns are created between pages, ties included", async () => {
    // Ten campaigns created at one instant: only the id orders them.
    const tenant = await newTenant();
    const same = "2026-02-01T00:00:00.123456Z";
    const before: string[] = [];
    for (let i = 0; i < 10; i++) before.push(await insertCampaign(tenant.workspaceId, { createdAt: same }));
    const added: string[] = [];
    const pages = await walk(tenant.key, "per_page=3", async () => {
      added.push(await insertCampaign(tenant.workspaceId));
      // Each older than every campaign so far: ahead of any position the walk holds.
      const older = new Date(Date.UTC(2025, 11, 31 - added.length)).toISOString();
      added.push(await insertCampaign(tenant.workspaceId, { createdAt: older }));
    });
    const seen = pages.flatMap(ids);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 10).sort()).toEqual([...before].sort());
    expect(seen.slice(0, 10)).toEqual([...before].sort().reverse());
    // Older campaigns created meanwhile sort after the position held, so the walk meets them; newer ones not.
    expect(seen.slice(10)).toEqual(added.filter((_, i) => i % 2 === 1));
  });

  it("400 validation_error for a cursor altered, of another list, with other filters, or with page", async () => {
    const { tenant } = await workspaceWith(["active", "active", "draft"]);
    const api = campaignsApi(gateway, tenant.key);
    const cursor = (await api.list("status=active&per_page=1")).body.meta.next_cursor as string;
    const decoded = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
    const encode = (value: unknown) =>
      btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const cases: [string, string][] = [
      [`status=active&cursor=${cursor.slice(0, -2)}`, "Must be the meta.next_cursor of an earlier page, unchanged"],
      [
        `status=active&cursor=${
          encode({ ...decoded, after: { ...decoded.after, created_at: "2026-02-30T00:00:00.000000Z" } })
        }`,
        "Must be the meta.next_cursor of an earlier page, unchanged",
      ],
      [
        `status=active&cursor=${encode({ ...decoded, after: { ...decoded.after, id: "7" } })}`,
        "Must be the meta.next_cursor of an earlier page, unchanged",
      ],
      [
        `status=active&cursor=${encode({ ...decoded, extra: 1 })}`,
        "Must be the meta.next_cursor of an earlier page, unchanged",
      ],
      [`status=active&cursor=${encode({ ...decoded, list: "api_keys" })}`, "This cursor belongs to another list"],
      [
        `status=draft&cursor=${cursor}`,
        "This cursor was issued for other filters: send the same filters with it as with the request that returned it",
      ],
      [
        `cursor=${cursor}`,
        "This cursor was issued for other filters: send the same filters with it as with the request that returned it",
      ],
      [`status=active&page=2&cursor=${cursor}`, "Send either cursor or page, not both"],
      [`status=active&page=1&cursor=${cursor}`, "Send either cursor or page, not both"],
    ];
    for (const [query, problem] of cases) {
      const res = await api.list(query);
      expect(expectFieldErrors(res, ["cursor"]).cursor, query).toBe(problem);
    }
  });

  it("a cursor from another workspace is only a position: the caller sees its own campaigns", async () => {
    const theirs = await workspaceWith(["draft", "draft", "draft"]);
    const mine = await workspaceWith(["draft", "draft", "draft"]);
    const cursor = (await campaignsApi(gateway, theirs.tenant.key).list("per_page=1")).body.meta.next_cursor;
    const res = await campaignsApi(gateway, mine.tenant.key).list(`cursor=${cursor}`);
    expect(res.status).toBe(200);
    // Their newest is 2026-01-03 like mine, so the position lets through my campaigns older than it.
    expect(ids(res).every((id) => mine.newestFirst.includes(id))).toBe(true);
    expect(ids(res)).toEqual(mine.newestFirst.slice(ids(res).length === 3 ? 0 : 1));
  });
});
