// When the database is away or too slow, callers get a quick `503 service_unavailable` (and /health says so), never
// a hang, a stack trace or a 500; the log line says what failed. Real sockets throughout: a port nobody listens on,
// and a server that accepts TCP connections and then never says a word.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "@shared/auth/api-key.ts";
import type { Database } from "@shared/db/database.ts";
import { createPostgresDatabase } from "@shared/db/postgres-database.ts";
import { createSupabaseDatabase } from "@shared/db/supabase-database.ts";
import { DatabaseUnavailableError } from "@shared/db/unavailable.ts";
import { expectError } from "../support/assertions.ts";
import { databaseUrl, db, insertCampaign, newTenant, type TestTenant } from "../support/fixtures.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { lockCampaignRow } from "../support/locks.ts";
import { freePort, startSilentPeer, type TcpPeer } from "../support/network.ts";

const TIMEOUT_MS = 1_000;
/** "Did not hang": far above TIMEOUT_MS, far below the 30 s test timeout. */
const GENEROUS_MS = 15_000;

const pgUrl = (port: number) => `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;

let silent: TcpPeer;
beforeAll(async () => {
  silent = await startSilentPeer();
});
afterAll(() => silent.close());

async function timed<T>(work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  expect(Date.now() - started).toBeLessThan(GENEROUS_MS);
  return result;
}

const REFUSED = /ECONNREFUSED/;
const NO_ANSWER = /CONNECT_TIMEOUT|timed out|timeout/i;

describe.each([
  [
    "Postgres, connection refused",
    REFUSED,
    async () => createPostgresDatabase(pgUrl(await freePort()), { timeoutMs: TIMEOUT_MS }),
  ],
  [
    "Postgres, accepts TCP and never answers",
    NO_ANSWER,
    () => Promise.resolve(createPostgresDatabase(pgUrl(silent.port), { timeoutMs: TIMEOUT_MS })),
  ],
  // The production side too: PostgREST's host refusing connections, or never answering.
  [
    "PostgREST, connection refused",
    REFUSED,
    async () => createSupabaseDatabase(`http://127.0.0.1:${await freePort()}`, "sb_secret_x"),
  ],
  [
    "PostgREST, accepts TCP and never answers",
    NO_ANSWER,
    () =>
      Promise.resolve(
        createSupabaseDatabase(`http://127.0.0.1:${silent.port}`, "sb_secret_x", { timeoutMs: TIMEOUT_MS }),
      ),
  ],
])("database away (%s)", (_, cause: RegExp, makeDb: () => Promise<Database>) => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    gateway = await startGateway({ db: await makeDb() });
  });
  afterAll(() => gateway.close());

  it("an authenticated request answers 503 service_unavailable quickly, with the envelope and no internals", async () => {
    const { key } = generateApiKey();
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await timed(() => call(`${gateway.url}/v1/campaigns`, { key }));
      const error = expectError(res, 503, "service_unavailable");
      expect(error.message).toBe("The service is temporarily unavailable. Please retry shortly.");
      expect(res.headers.get("retry-after")).toBe("1");
      expect(JSON.stringify(res.body)).not.toMatch(/ECONN|timed out|\bat \S+:\d+|postgres|127\.0\.0\.1/i);

      const line = gateway.logs.find((l) => l.request_id === res.headers.get("x-request-id"));
      expect(line).toMatchObject({ level: "error", status: 503, key_prefix: key.slice(0, 12) });
      expect(String(line?.error)).toMatch(/gateway_request/);
      expect(String(line?.error)).toMatch(cause);
    }
  });

  it('GET /health answers 503 {"status":"unavailable"} and logs why', async () => {
    const res = await timed(() => call(`${gateway.url}/health`));
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: "unavailable" });
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const line = gateway.logs.find((l) => l.request_id === res.headers.get("x-request-id"));
    expect(line).toMatchObject({ status: 503, route: "/functions/v1/api-gateway/health" });
    expect(String(line?.error)).toMatch(/health_check/);
    expect(String(line?.error)).toMatch(cause);
  });
});

describe("an RPC slower than timeoutMs (statement timeout)", () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await newTenant();
  });

  // A real slow query without adding functions to the shared schema: delete_campaign waits for a row lock that
  // another transaction holds.
  it("is DatabaseUnavailableError from the Postgres seam, which keeps working afterwards", async () => {
    const seam = createPostgresDatabase(databaseUrl(), { timeoutMs: 300, maxConnections: 2 });
    const id = await insertCampaign(tenant.workspaceId);
    const lock = await lockCampaignRow(id);
    try {
      const error = await timed(() =>
        seam.rpc("delete_campaign", { p_workspace_id: tenant.workspaceId, p_id: id }).then(() => undefined, (e) => e)
      );
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect(error.message).toMatch(/statement timeout/);
      // A slow statement is not a lost database: it must not open the circuit breaker.
      expect(error.unreachable).toBe(false);
    } finally {
      await lock.release();
    }
    expect(await seam.rpc("health_check", {})).toEqual({ status: "ok" });
    expect(await db()`select 1 from public.campaigns where id = ${id}`).toHaveLength(1);
    await seam.close();
  });

  it("queued behind a slow statement, a caller is refused before its statement is sent: a busy pool, not a lost database", async () => {
    // One connection, three callers on a locked row. The first holds the connection for a whole statement timeout;
    // the others cannot start soon enough to end before their deadlines, so they are never sent: were they sent,
    // they would run once the lock goes and commit a delete their callers were told had failed. Nor may the
    // circuit breaker open for that.
    const own = await newTenant();
    const seam = createPostgresDatabase(databaseUrl(), { timeoutMs: 300, maxConnections: 1 });
    const id = await insertCampaign(own.workspaceId);
    const lock = await lockCampaignRow(id);
    try {
      const errors = await Promise.all(
        [0, 1, 2].map(() =>
          seam.rpc("delete_campaign", { p_workspace_id: own.workspaceId, p_id: id }).then(() => undefined, (e) => e)
        ),
      );
      expect(errors.map((e) => e instanceof DatabaseUnavailableError && e.unreachable)).toEqual([false, false, false]);
      expect(errors[0].message).toMatch(/statement timeout/);
      expect(errors[1].message).toMatch(/no connection free within/);
      expect(errors[2].message).toMatch(/no connection free within/);
    } finally {
      await lock.release();
    }
    expect(await seam.rpc("health_check", {})).toEqual({ status: "ok" });
    expect(await db()`select status from public.campaigns where id = ${id}`).toEqual([{ status: "draft" }]);
    await seam.close();
  });

  it("is 503 through the gateway, and nothing was half done", async () => {
    const seam = createPostgresDatabase(databaseUrl(), { timeoutMs: 300 });
    const gateway = await startGateway({ db: seam });
    const id = await insertCampaign(tenant.workspaceId);
    const lock = await lockCampaignRow(id);
    try {
      const res = await timed(() => call(`${gateway.url}/v1/campaigns/${id}`, { method: "DELETE", key: tenant.key }));
      expectError(res, 503, "service_unavailable");
    } finally {
      await lock.release();
      await gateway.close();
      await seam.close();
    }
    expect(await db()`select status from public.campaigns where id = ${id}`).toEqual([{ status: "draft" }]);
    expect(await db()`select 1 from public.webhook_events where workspace_id = ${tenant.workspaceId}`).toHaveLength(0);
  });
});
