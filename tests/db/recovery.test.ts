// The database goes away under load and comes back: callers get 503 service_unavailable with Retry-After at once
// (the circuit breaker answers, not a timeout), /health says so, and the full answer returns by itself once the
// database is back, with more concurrent callers than pool slots. Both seams, over real sockets: a TCP path in front
// of the test Postgres (direct driver) or in front of the PostgREST stand-in (postgrest-js) is switched off and on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withCircuitBreaker } from "@shared/db/circuit-breaker.ts";
import type { Database } from "@shared/db/database.ts";
import { createPostgresDatabase } from "@shared/db/postgres-database.ts";
import { createSupabaseDatabase } from "@shared/db/supabase-database.ts";
import { type ApiResponse, expectError } from "../support/assertions.ts";
import { databaseUrl, insertCampaign, newTenant, type TestTenant } from "../support/fixtures.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { lockCampaignRow } from "../support/locks.ts";
import { freePort, startSilentPeer, startSwitchablePath, type SwitchablePath } from "../support/network.ts";
import { type PostgrestStandIn, startPostgrestStandIn } from "../support/postgrest-stand-in.ts";

const SECRET_KEY = "sb_secret_recovery_test";
const CLIENTS = 16;
/** "Came back by itself": far above the breaker's probe interval, far below the test timeout. */
const GENEROUS_MS = 10_000;

const withPort = (url: string, port: number) => Object.assign(new URL(url), { port: String(port) }).toString();

interface Setup {
  path: SwitchablePath;
  db: Database;
  close(): Promise<void>;
}

const seams: [string, () => Promise<Setup>][] = [
  ["Postgres driver, pool of 2", async () => {
    const path = await startSwitchablePath(Number(new URL(databaseUrl()).port));
    const seam = createPostgresDatabase(withPort(databaseUrl(), path.port), { maxConnections: 2, timeoutMs: 1_000 });
    return { path, db: seam, close: async () => (await path.close(), await seam.close()) };
  }],
  ["PostgREST (postgrest-js)", async () => {
    const standIn: PostgrestStandIn = await startPostgrestStandIn({ databaseUrl: databaseUrl(), key: SECRET_KEY });
    const path = await startSwitchablePath(Number(new URL(standIn.url).port));
    const seam = createSupabaseDatabase(withPort(standIn.url, path.port), SECRET_KEY, { timeoutMs: 1_000 });
    return { path, db: seam, close: async () => (await path.close(), await standIn.close()) };
  }],
];

describe.each(seams)("database away and back (%s)", (_, setUp) => {
  let setup: Setup;
  let gateway: RunningGateway;
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await newTenant();
    setup = await setUp();
    gateway = await startGateway({ db: withCircuitBreaker(setup.db) });
  });
  afterAll(async () => {
    await gateway.close();
    await setup.close();
  });

  const list = () => call(`${gateway.url}/v1/campaigns`, { key: tenant.key });
  const logOf = (res: ApiResponse) => gateway.logs.find((l) => l.request_id === res.headers.get("x-request-id"));

  it("while away: every caller gets 503 with Retry-After, from the open circuit after the first refusal", async () => {
    expect((await list()).status).toBe(200);
    await setup.path.down();

    const first = await list();
    expectError(first, 503, "service_unavailable");
    expect(first.headers.get("retry-after")).toBe("1");

    const burst = await Promise.all(Array.from({ length: CLIENTS }, list));
    for (const res of burst) {
      expectError(res, 503, "service_unavailable");
      expect(res.headers.get("retry-after")).toBe("1");
      expect(String(logOf(res)?.error)).toMatch(/gateway_request: circuit open/);
    }

    const health = await call(`${gateway.url}/health`);
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: "unavailable" });
    expect(health.headers.get("retry-after")).toBe("1");
  });

  it("back: full answers return by themselves, to more concurrent callers than pool slots", async () => {
    await setup.path.up();
    const upAt = Date.now();
    const seen: number[] = [];
    const stopAt = upAt + GENEROUS_MS;
    let recoveredAt: number | undefined;
    // CLIENTS callers keep calling until one is answered in full, as clients retrying after Retry-After would.
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (recoveredAt === undefined && Date.now() < stopAt) {
        const res = await list();
        seen.push(res.status);
        if (res.status === 200) recoveredAt ??= Date.now();
        else await new Promise((r) => setTimeout(r, 20));
      }
    }));
    expect(recoveredAt, `no 200 within ${GENEROUS_MS} ms; statuses: ${seen.join(",")}`).toBeDefined();
    expect(new Set(seen)).toEqual(new Set(seen.includes(503) ? [200, 503] : [200]));
    console.log(`database back -> first 200: ${recoveredAt! - upAt} ms`);

    const after = await Promise.all(Array.from({ length: CLIENTS }, list));
    expect(after.map((r) => r.status)).toEqual(Array(CLIENTS).fill(200));
    expect((await call(`${gateway.url}/health`)).body).toEqual({ status: "ok" });
  });
});

it("PostgREST answering 503 PGRST000 (it cannot reach Postgres) opens the circuit too", async () => {
  const standIn = await startPostgrestStandIn({
    databaseUrl: withPort(databaseUrl(), await freePort()),
    key: SECRET_KEY,
  });
  const gateway = await startGateway({ db: withCircuitBreaker(createSupabaseDatabase(standIn.url, SECRET_KEY)) });
  try {
    const { key } = await newTenant();
    const first = await call(`${gateway.url}/v1/campaigns`, { key });
    expectError(first, 503, "service_unavailable");
    const second = await call(`${gateway.url}/v1/campaigns`, { key });
    expectError(second, 503, "service_unavailable");
    const line = gateway.logs.find((l) => l.request_id === second.headers.get("x-request-id"));
    expect(String(line?.error)).toMatch(/circuit open.*PGRST000/);
    // Only the first call reached PostgREST; after it, only the breaker's background probes did.
    const calls = standIn.requests.map((r) => r.path).filter((p) => !p.endsWith("/health_check"));
    expect(calls).toEqual(["/rest/v1/rpc/gateway_request"]);
  } finally {
    await gateway.close();
    await standIn.close();
  }
});

it("a connection that goes silent mid-query (partition, frozen host) is abandoned: the pool is replaced", async () => {
  const path = await startSwitchablePath(Number(new URL(databaseUrl()).port));
  const seam = createPostgresDatabase(withPort(databaseUrl(), path.port), { maxConnections: 2, timeoutMs: 500 });
  try {
    expect(await seam.rpc("health_check", {})).toEqual({ status: "ok" });
    path.freeze();
    // Both pool slots are taken by queries that will never be answered on their connections.
    const stuck = await Promise.all([0, 1].map(() => seam.rpc("health_check", {}).then(() => "answered", (e) => e)));
    for (const error of stuck) expect(error).toMatchObject({ name: "DatabaseUnavailableError", unreachable: true });
    path.thaw();
    const deadline = Date.now() + GENEROUS_MS;
    let answer: unknown;
    while (Date.now() < deadline && !answer) {
      answer = await seam.rpc("health_check", {}).catch(() => undefined);
    }
    expect(answer).toEqual({ status: "ok" });
  } finally {
    await seam.close();
    await path.close();
  }
});

describe("a call the PostgREST seam gives up on at its deadline", () => {
  const DEADLINE_MS = 300;

  /** The breaker over the supabase seam, and what it reported opening for. */
  function guarded(url: string) {
    const changes: string[] = [];
    const db = withCircuitBreaker(createSupabaseDatabase(url, SECRET_KEY, { timeoutMs: DEADLINE_MS }), {
      onChange: (state, reason) => changes.push(`${state}: ${reason}`),
    });
    return { db, changes };
  }

  async function until(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + GENEROUS_MS;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error("condition not met in time");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("a statement still running (a held row lock) is 503 for its caller only: the health check answers", async () => {
    const standIn = await startPostgrestStandIn({ databaseUrl: databaseUrl(), key: SECRET_KEY });
    const { db, changes } = guarded(standIn.url);
    const tenant = await newTenant();
    const id = await insertCampaign(tenant.workspaceId);
    const lock = await lockCampaignRow(id);
    try {
      const slow = await db.rpc("delete_campaign", { p_workspace_id: tenant.workspaceId, p_id: id }).catch((e) => e);
      expect(slow).toMatchObject({ name: "DatabaseUnavailableError", unanswered: true, unreachable: false });
      const checked = () => standIn.requests.find((r) => r.path === "/rest/v1/rpc/health_check");
      await until(() => checked()?.status !== undefined);
      // The check answered, so nothing can open the circuit now; the previous code opened it before the call failed.
      expect(checked()!.status).toBe(200);
      expect(db.state).toBe("closed");
      expect(changes).toEqual([]);
      expect(
        await db.rpc("list_campaigns", {
          p_workspace_id: tenant.workspaceId,
          p_status: null,
          p_page: 1,
          p_per_page: 1,
          p_after_created_at: null,
          p_after_id: null,
        }),
      )
        .toMatchObject({ total: 1 });
    } finally {
      await lock.release();
      await standIn.close();
    }
  });

  it("a server that never answers opens the circuit once the health check goes unanswered too", async () => {
    const peer = await startSilentPeer();
    const { db, changes } = guarded(`http://127.0.0.1:${peer.port}`);
    try {
      const first = await db.rpc("health_check", {}).catch((e) => e);
      expect(first).toMatchObject({ name: "DatabaseUnavailableError", unanswered: true });
      await until(() => db.state === "open");
      const unanswered = `rpc health_check: timed out, no answer in ${DEADLINE_MS} ms`;
      expect(changes).toEqual([`open: ${unanswered}; then ${unanswered}`]);
      await expect(db.rpc("health_check", {})).rejects.toThrow(/circuit open/);
    } finally {
      await peer.close();
    }
  });
});
