// The counting write of the rate limit (public.rate_limit_count) when a request reaches it late: gateway_request
// counts after the operation, with the time the request began, so a request that began in the last minute of a
// window can be counted after requests of the next one. The window must not move back.
import { beforeEach, expect, it } from "vitest";
import { createWorkspace } from "@scripts/admin/provisioning.ts";
import { db } from "../support/fixtures.ts";

const PER_DAY = 100;
const PER_MINUTE = 10;
const CURRENT = { day: "2026-11-30", minute: "2026-11-30T10:05:00Z" };
/** When the late request began: the minute before the counter's. */
const LATE = "2026-11-30T10:04:59.900Z";

let workspaceId: string;
beforeEach(async () => {
  workspaceId = (await createWorkspace(db(), { name: "late counts", plan: "pro" })).id;
});

async function counterAt(minuteCount: number) {
  await db()`
    insert into public.rate_limit_counters (workspace_id, day_start, day_count, minute_start, minute_count)
    values (${workspaceId}, ${CURRENT.day}, ${minuteCount}, ${CURRENT.minute}, ${minuteCount})`;
}

async function countLate(): Promise<string> {
  const [{ outcome }] = await db()<{ outcome: string }[]>`
    select public.rate_limit_count(${workspaceId}, ${PER_DAY}, ${PER_MINUTE}, ${LATE}::timestamptz) ->> 'outcome' as outcome`;
  return outcome;
}

async function counter() {
  const [row] = await db()<{ day_start: string; day_count: number; minute_start: string; minute_count: number }[]>`
    select to_char(day_start, 'YYYY-MM-DD') as day_start, day_count,
           to_char(minute_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as minute_start, minute_count
      from public.rate_limit_counters where workspace_id = ${workspaceId}`;
  return row;
}

it("a late request is counted in the newer window, which keeps what it had counted", async () => {
  await counterAt(3);
  expect(await countLate()).toBe("ok");
  expect(await counter()).toEqual({
    day_start: CURRENT.day,
    day_count: 4,
    minute_start: CURRENT.minute,
    minute_count: 4,
  });
});

it("a late request is held to the newer window's limit: refused when it is full, and nothing is counted", async () => {
  await counterAt(PER_MINUTE);
  expect(await countLate()).toBe("rate_limited");
  expect(await counter()).toEqual({
    day_start: CURRENT.day,
    day_count: PER_MINUTE,
    minute_start: CURRENT.minute,
    minute_count: PER_MINUTE,
  });
});
