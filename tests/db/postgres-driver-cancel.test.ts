// A known postgres.js 3.4.9 bug, kept as a reproduction so an upgrade that fixes it is noticed (this test then
// fails: delete it, and consider letting the seam cancel again). Why the seam never calls query.cancel().
//
// A query handed to a closed connection becomes that connection's "initial" query and waits for the reconnect
// (which backs off after failed attempts). Cancelling it then only marks it cancelled and rejects it. When the
// connect finally succeeds, ReadyForQuery calls execute(initial), which returns at once for a cancelled query, and
// the connection is never moved to the pool's open queue: it sits in "connecting" forever, idle on the server, and
// with every slot stuck like that, each later query waits in the pool queue for good.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../support/fixtures.ts";
import { startSwitchablePath, type SwitchablePath } from "../support/network.ts";

const RECONNECT_DELAY_S = 1;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

let path: SwitchablePath;
beforeAll(async () => {
  path = await startSwitchablePath(Number(new URL(databaseUrl()).port));
});
afterAll(() => path.close());

/** Pool of one; the database refuses one query, then a second is sent (and maybe cancelled) during the reconnect wait. */
async function afterAnOutage(cancelTheWaitingQuery: boolean): Promise<"answered" | "still waiting"> {
  const url = new URL(databaseUrl());
  url.port = String(path.port);
  const sql = postgres(url.toString(), { max: 1, backoff: () => RECONNECT_DELAY_S, onnotice: () => {} });
  try {
    await path.down();
    await expect(sql`select 1`).rejects.toMatchObject({ code: "ECONNREFUSED" });
    const waiting = sql`select 2`;
    const settled = waiting.then(() => "answered", (e: { code?: string }) => e.code);
    if (cancelTheWaitingQuery) {
      await pause(100);
      await waiting.cancel();
      expect(await settled).toBe("57014");
    }
    await path.up();
    if (!cancelTheWaitingQuery) expect(await settled).toBe("answered");
    const next = sql`select 3 as n`.then(([row]) => (row.n === 3 ? "answered" as const : "still waiting" as const));
    return await Promise.race([next, pause(RECONNECT_DELAY_S * 1000 + 3_000).then(() => "still waiting" as const)]);
  } finally {
    await path.up().catch(() => {});
    await sql.end({ timeout: 0 });
  }
}

describe("postgres.js 3.4.9: cancel() of a query waiting for a reconnect", () => {
  it("without the cancel, the pool answers once the database is back", async () => {
    expect(await afterAnOutage(false)).toBe("answered");
  });

  it("with the cancel, the pool's only connection never becomes usable again (driver bug)", async () => {
    expect(await afterAnOutage(true)).toBe("still waiting");
  });
});
