// The request log under a flood of requests nobody can be held to (issue 21): garbage keys from anyone get a capped
// number of log lines a second, the first line after a capped second counts what went unwritten, and a known
// caller's requests are logged one by one whatever the flood.
import { describe, expect, it } from "vitest";
import { generateApiKey } from "@shared/auth/api-key.ts";
import { call, gatewaySession } from "../support/gateway.ts";

const CAP = 3;
const s = gatewaySession({ unattributedLogLines: CAP });

/** Waits until a new wall-clock second has begun, so that what follows starts with a fresh cap. */
async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}

describe("request log", () => {
  it("caps the lines of requests without a known caller, and says how many went unwritten", async () => {
    await nextSecond();
    const flood = 20;
    const ids: string[] = [];
    for (let i = 0; i < flood; i++) {
      // Well-formed keys that no workspace holds: each costs the database a lookup and gets a 401.
      const res = await call(`${s.gateway.url}/v1/campaigns`, { key: generateApiKey().key });
      expect(res.status).toBe(401);
      ids.push(res.headers.get("x-request-id")!);
    }
    // A known caller in the middle of the flood is logged as always.
    const known = await call(`${s.gateway.url}/v1/campaigns`, { key: s.tenant.key });
    expect(known.status).toBe(200);
    const knownLine = s.gateway.logs.find((line) => line.request_id === known.headers.get("x-request-id"));
    expect(knownLine).toMatchObject({ status: 200, workspace_id: s.tenant.workspaceId });

    const written = s.gateway.logs.filter((line) => ids.includes(line.request_id as string));
    // The flood may straddle one change of second, so at most two seconds' worth.
    expect(written.length).toBeGreaterThanOrEqual(CAP);
    expect(written.length).toBeLessThanOrEqual(2 * CAP);
    expect(written.every((line) => line.status === 401 && line.workspace_id === null)).toBe(true);

    await nextSecond();
    const after = await call(`${s.gateway.url}/v1/nothing`, {});
    expect(after.status).toBe(404);
    const afterLine = s.gateway.logs.find((line) => line.request_id === after.headers.get("x-request-id"));
    const reported = written.reduce((sum, line) => sum + Number(line.unattributed_unwritten ?? 0), 0) +
      Number(afterLine?.unattributed_unwritten);
    expect(written.length + reported).toBe(flood);
  });
});
