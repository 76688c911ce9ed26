import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiResponse, expectError, statusCounts } from "../support/assertions.ts";
import type { Permission } from "@shared/auth/permissions.ts";
import { db, eventsOf, insertEndpoint, newKey, newTenant } from "../support/fixtures.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { counterOf, databaseEpoch, inOneMinute, isUtcMidnight, setCounter } from "../support/rate-limit.ts";

let gateway: RunningGateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway.close());

const starter = (tier: "standard" | "high" = "standard", permissions?: Permission[]) =>
  newTenant({ plan: "starter", tier, permissions });
const list = (key: string) => call(`${gateway.url}/v1/campaigns`, { key });

function limitHeaders(res: ApiResponse) {
  return {
    limit: Number(res.headers.get("x-ratelimit-limit")),
    remaining: Number(res.headers.get("x-ratelimit-remaining")),
    reset: Number(res.headers.get("x-ratelimit-reset")),
  };
}

/** The contract's 429: code, message with the reset time, Retry-After, and the rate-limit headers. */
function expectRateLimited(res: ApiResponse) {
  const error = expectError(res, 429, "rate_limited");
  const resetsAt = /^Rate limit exceeded\. Resets at (\S+)$/.exec(error.message)?.[1];
  expect(resetsAt, error.message).toBeDefined();
  expect(new Date(resetsAt!).toISOString().replace(".000Z", "Z")).toBe(resetsAt);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(res.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
  return { resetsAt: Date.parse(resetsAt!) / 1000, retryAfter, ...limitHeaders(res) };
}

describe("rate-limit headers", () => {
  it("metered responses carry the daily limit, what is left today, and the next 00:00 UTC", async () => {
    const seen = await inOneMinute(async () => {
      const t = await starter();
      return [await list(t.key), await list(t.key), await list(t.key)];
    });
    for (const res of seen) expect(res.status).toBe(200);
    expect(seen.map((res) => [limitHeaders(res).limit, limitHeaders(res).remaining])).toEqual([[100, 99], [100, 98], [
      100,
      97,
    ]]);
    const { reset } = limitHeaders(seen[0]);
    expect(isUtcMidnight(reset)).toBe(true);
    expect(reset - Date.now() / 1000).toBeGreaterThan(-5);
    expect(reset - Date.now() / 1000).toBeLessThanOrEqual(86_400);
  });

  it("unmetered keys get no rate-limit headers and are not counted", async () => {
    const t = await newTenant({ plan: "starter", tier: "unmetered" });
    for (let i = 0; i < 12; i++) {
      const res = await list(t.key);
      expect(res.status).toBe(200);
      for (
        const name of [
          "x-ratelimit-limit",
          "x-ratelimit-remaining",
          "x-ratelimit-reset",
          "ratelimit-policy",
          "ratelimit",
          "retry-after",
        ]
      ) {
        expect(res.headers.get(name)).toBeNull();
      }
    }
    expect(await counterOf(t.workspaceId)).toBeUndefined();
  });

  it("403 and 404 answers count too, and carry the headers", async () => {
    const { t, forbidden, missing, notUuid } = await inOneMinute(async () => {
      const t = await starter("standard", ["campaigns:read"]);
      return {
        t,
        forbidden: await call(`${gateway.url}/v1/campaigns`, { method: "POST", key: t.key, body: { name: "x" } }),
        missing: await call(`${gateway.url}/v1/campaigns/${crypto.randomUUID()}`, { key: t.key }),
        notUuid: await call(`${gateway.url}/v1/campaigns/cmp_abc123`, { key: t.key }),
      };
    });
    expectError(forbidden, 403, "insufficient_permissions");
    expectError(missing, 404, "campaign_not_found");
    expectError(notUuid, 404, "campaign_not_found");
    expect([forbidden, missing, notUuid].map((r) => limitHeaders(r).remaining)).toEqual([99, 98, 97]);
    expect((await counterOf(t.workspaceId)).day_count).toBe(3);
  });
});

describe("limits", () => {
  it("starter minute limit 10: of 25 concurrent requests exactly 10 pass, 15 get 429, and the 429s are not counted", async () => {
    const { t, responses } = await inOneMinute(async () => {
      const t = await starter();
      const responses = await Promise.all(Array.from({ length: 25 }, () => list(t.key)));
      return { t, responses };
    });
    expect(statusCounts(responses)).toEqual({ 200: 10, 429: 15 });
    const passed = responses.filter((r) => r.status === 200).map((r) => limitHeaders(r).remaining);
    expect(passed.sort((a, b) => a - b)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    for (const res of responses.filter((r) => r.status === 429)) {
      const { resetsAt, retryAfter, limit, remaining } = expectRateLimited(res);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(resetsAt % 60).toBe(0);
      expect([limit, remaining]).toEqual([100, 90]);
    }
    expect(await counterOf(t.workspaceId)).toEqual({ day_count: 10, minute_count: 10 });
  });

  it("writes: of 25 concurrent creates against 10 left, exactly 10 campaigns and 10 events exist; a 429 changed nothing", async () => {
    const { t, responses } = await inOneMinute(async () => {
      const t = await starter();
      await insertEndpoint(t.workspaceId, ["campaign.created"]);
      const responses = await Promise.all(
        Array.from(
          { length: 25 },
          (_, i) => call(`${gateway.url}/v1/campaigns`, { method: "POST", key: t.key, body: { name: `c${i}` } }),
        ),
      );
      return { t, responses };
    });
    expect(statusCounts(responses)).toEqual({ 201: 10, 429: 15 });
    const created = responses.filter((r) => r.status === 201).map((r) => r.body.data.campaign.id).sort();
    const [{ ids }] = await db()<{ ids: string[] }[]>`
      select coalesce(array_agg(id::text order by id::text), '{}') as ids from public.campaigns where workspace_id = ${t.workspaceId}`;
    expect(ids).toEqual(created);
    expect(await eventsOf(t.workspaceId)).toHaveLength(10);
    expect(await counterOf(t.workspaceId)).toEqual({ day_count: 10, minute_count: 10 });
  });

  it("a 429 spends nothing: once the minute window reopens, the day's count is where it was", async () => {
    const t = await starter();
    const refused = await inOneMinute(async () => {
      await setCounter(t.workspaceId, { day: 50, minute: 10 });
      return await Promise.all(Array.from({ length: 5 }, () => list(t.key)));
    });
    for (const res of refused) expectRateLimited(res);
    await setCounter(t.workspaceId, { day: (await counterOf(t.workspaceId)).day_count });
    const next = await list(t.key);
    expect(next.status).toBe(200);
    expect(limitHeaders(next).remaining).toBe(49);
  });

  it("the day limit: the last request gets Remaining 0, then 429 with Retry-After up to the next 00:00 UTC", async () => {
    const t = await starter();
    const [last, ...refused] = await inOneMinute(async () => {
      await setCounter(t.workspaceId, { day: 99 });
      return [await list(t.key), await list(t.key), await list(t.key), await list(t.key)];
    });
    expect(last.status).toBe(200);
    expect(limitHeaders(last)).toMatchObject({ limit: 100, remaining: 0 });

    for (const res of refused) {
      const { resetsAt, retryAfter, remaining, reset } = expectRateLimited(res);
      expect(remaining).toBe(0);
      expect(resetsAt).toBe(reset);
      expect(isUtcMidnight(reset)).toBe(true);
      // Retry-After counts down to that midnight (a few seconds of slack for the clocks being read apart).
      expect(Math.abs(Date.now() / 1000 + retryAfter - reset)).toBeLessThanOrEqual(5);
    }
    expect(await counterOf(t.workspaceId)).toMatchObject({ day_count: 100 });
  });

  it("the high tier gets ten times the plan's limits", async () => {
    const t = await starter("high");
    const first = await list(t.key);
    expect(limitHeaders(first)).toMatchObject({ limit: 1000, remaining: 999 });
    const [atLimit, over] = await inOneMinute(async () => {
      await setCounter(t.workspaceId, { day: 1, minute: 99 });
      return [await list(t.key), await list(t.key)];
    });
    expect(atLimit.status).toBe(200);
    expect(limitHeaders(atLimit).remaining).toBe(998);
    expect(expectRateLimited(over).retryAfter).toBeLessThanOrEqual(60);
  });

  it("limits are per workspace: two keys of one workspace share a counter, another workspace is unaffected", async () => {
    const t = await starter();
    const sibling = await newKey(t, ["campaigns:read"], "standard");
    const other = await starter();
    const [first, second, third, fourth, elsewhere] = await inOneMinute(async () => {
      await setCounter(t.workspaceId, { day: 98 });
      await setCounter(other.workspaceId, { day: 10 });
      return [await list(t.key), await list(sibling), await list(t.key), await list(sibling), await list(other.key)];
    });
    expect(limitHeaders(first).remaining).toBe(1);
    expect(limitHeaders(second).remaining).toBe(0);
    expectRateLimited(third);
    expectRateLimited(fourth);
    expect(elsewhere.status).toBe(200);
    expect(limitHeaders(elsewhere).remaining).toBe(89);
  });

  it("the counter is the workspace's, whatever plan its keys were made under: a plan change applies at once", async () => {
    const t = await starter();
    const [refused, res] = await inOneMinute(async () => {
      await db()`update public.workspaces set plan = 'starter' where id = ${t.workspaceId}`;
      await setCounter(t.workspaceId, { day: 100 });
      const refused = await list(t.key);
      await db()`update public.workspaces set plan = 'pro' where id = ${t.workspaceId}`;
      return [refused, await list(t.key)];
    });
    expectRateLimited(refused);
    expect(res.status).toBe(200);
    expect(limitHeaders(res)).toMatchObject({ limit: 1000, remaining: 899 });
  });
});

/** The IETF RateLimit field, parsed: which window, requests left, seconds to its reset. */
function currentLimit(res: ApiResponse) {
  const match = /^"(day|minute)";r=(\d+);t=(\d+)$/.exec(res.headers.get("ratelimit") ?? "");
  expect(match, `RateLimit: ${res.headers.get("ratelimit")}`).not.toBeNull();
  return { window: match![1], r: Number(match![2]), t: Number(match![3]) };
}

/** Seconds to the next minute on the database's clock, read before and after a request: `t` lies between. */
async function aroundRequest<T>(request: () => Promise<T>) {
  const before = await databaseEpoch();
  const result = await request();
  const after = await databaseEpoch();
  const secondsTo = (boundary: number) => [Math.ceil(boundary - after), Math.ceil(boundary - before)];
  return { result, minuteReset: secondsTo(Math.floor(before / 60) * 60 + 60), secondsTo };
}

describe("IETF RateLimit-Policy and RateLimit fields", () => {
  const starterPolicy = '"day";q=100;w=86400, "minute";q=10;w=60';

  it("a 200 names both windows and gives the minute window, the one closest to exhaustion, counting down", async () => {
    const seen = await inOneMinute(async () => {
      const t = await starter();
      return await aroundRequest(async () => [await list(t.key), await list(t.key), await list(t.key)]);
    });
    for (const res of seen.result) {
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-policy")).toBe(starterPolicy);
    }
    expect(seen.result.map((res) => [currentLimit(res).window, currentLimit(res).r])).toEqual([["minute", 9], [
      "minute",
      8,
    ], ["minute", 7]]);
    const [soonest, latest] = seen.minuteReset;
    for (const res of seen.result) {
      expect(currentLimit(res).t).toBeGreaterThanOrEqual(Math.max(soonest, 1));
      expect(currentLimit(res).t).toBeLessThanOrEqual(latest);
    }
  });

  it("the day window is given once it has fewer requests left, and wins a tie", async () => {
    const t = await starter();
    const { result: [nearlyDone, tied], secondsTo } = await inOneMinute(() =>
      aroundRequest(async () => {
        await setCounter(t.workspaceId, { day: 98 });
        const nearlyDone = await list(t.key);
        await setCounter(t.workspaceId, { day: 95, minute: 5 });
        return [nearlyDone, await list(t.key)];
      })
    );
    const midnight = Number(nearlyDone.headers.get("x-ratelimit-reset"));
    const [soonest, latest] = secondsTo(midnight);
    for (const [res, left] of [[nearlyDone, 1], [tied, 4]] as const) {
      expect(res.status).toBe(200);
      const { window, r, t: resetIn } = currentLimit(res);
      expect([window, r]).toEqual(["day", left]);
      expect(resetIn).toBeGreaterThanOrEqual(soonest);
      expect(resetIn).toBeLessThanOrEqual(latest);
    }
  });

  it("403 and 404 answers carry both fields too", async () => {
    const [forbidden, missing] = await inOneMinute(async () => {
      const t = await starter("standard", ["campaigns:read"]);
      return [
        await call(`${gateway.url}/v1/campaigns`, { method: "POST", key: t.key, body: { name: "x" } }),
        await call(`${gateway.url}/v1/campaigns/${crypto.randomUUID()}`, { key: t.key }),
      ];
    });
    expectError(forbidden, 403, "insufficient_permissions");
    expectError(missing, 404, "campaign_not_found");
    for (const res of [forbidden, missing]) expect(res.headers.get("ratelimit-policy")).toBe(starterPolicy);
    expect([currentLimit(forbidden), currentLimit(missing)].map(({ window, r }) => [window, r])).toEqual([
      ["minute", 9],
      ["minute", 8],
    ]);
  });

  it("a 429 names the exceeded window with nothing left and t equal to Retry-After, minute or day", async () => {
    const minuteT = await starter();
    const dayT = await starter();
    const [minuteOver, dayOver] = await inOneMinute(async () => {
      await setCounter(minuteT.workspaceId, { day: 50, minute: 10 });
      await setCounter(dayT.workspaceId, { day: 100 });
      return [await list(minuteT.key), await list(dayT.key)];
    });
    for (const [res, window] of [[minuteOver, "minute"], [dayOver, "day"]] as const) {
      const { retryAfter } = expectRateLimited(res);
      expect(res.headers.get("ratelimit-policy")).toBe(starterPolicy);
      expect(currentLimit(res)).toEqual({ window, r: 0, t: retryAfter });
    }
  });

  it("the high tier's policy is ten times the plan's", async () => {
    const res = await list((await starter("high")).key);
    expect(res.headers.get("ratelimit-policy")).toBe('"day";q=1000;w=86400, "minute";q=100;w=60');
    expect(currentLimit(res)).toMatchObject({ window: "minute", r: 99 });
  });
});
