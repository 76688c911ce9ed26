import { db } from "./fixtures.ts";

/**
 * Puts a workspace's rate-limit counter where a test needs it, on the database's clock (the one the gateway
 * counts with): `day` requests counted today, and `minute` requests in the current minute (or none, when
 * `minute` is left out: the minute window then starts afresh with the next request).
 */
export async function setCounter(workspaceId: string, counts: { day: number; minute?: number }): Promise<void> {
  const currentMinute = counts.minute !== undefined;
  await db()`
    insert into public.rate_limit_counters as r (workspace_id, day_start, day_count, minute_start, minute_count)
    values (${workspaceId}, (clock_timestamp() at time zone 'UTC')::date, ${counts.day},
            case when ${currentMinute} then date_trunc('minute', clock_timestamp()) else '2000-01-01Z' end,
            ${counts.minute ?? 0})
    on conflict (workspace_id) do update set day_start = excluded.day_start, day_count = excluded.day_count,
      minute_start = excluded.minute_start, minute_count = excluded.minute_count`;
}

export async function counterOf(workspaceId: string) {
  const [row] = await db()<{ day_count: number; minute_count: number }[]>`
    select day_count, minute_count from public.rate_limit_counters where workspace_id = ${workspaceId}`;
  return row;
}

/** The database's clock (the one the gateway counts with), in Unix seconds with fractions. */
export async function databaseEpoch(): Promise<number> {
  const [row] = await db()<{ epoch: string }[]>`select extract(epoch from clock_timestamp())::text as epoch`;
  return Number(row.epoch);
}

async function databaseMinute(): Promise<string> {
  const [row] = await db()<{ minute: string }[]>`select date_trunc('minute', clock_timestamp())::text as minute`;
  return row.minute;
}

/**
 * Runs `round` (which must arrange its own state) until one run starts and ends in the same minute on the
 * database's clock, so a minute (or day) window rolling over mid-round cannot make the outcome flaky.
 */
export async function inOneMinute<T>(round: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await databaseMinute();
    const result = await round();
    if ((await databaseMinute()) === before) return result;
  }
  throw new Error("every round straddled a minute boundary");
}

/** Unix seconds of the next 00:00 UTC, as X-RateLimit-Reset states it. */
export function isUtcMidnight(unixSeconds: number): boolean {
  return Number.isInteger(unixSeconds) && unixSeconds % 86_400 === 0;
}
