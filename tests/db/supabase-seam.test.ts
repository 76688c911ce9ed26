// The production side of the database seam (postgrest-js -> PostgREST) against the direct-driver side that local
// runs and the other suites use. PostgREST cannot run on this machine, so postgrest-js talks to a stand-in for it
// (tests/support/postgrest-stand-in.ts, the suite's one fake) that checks the wire exchange and runs every call on
// the real test Postgres. Both sides must give the same values, the same errors and the same "unavailable".
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "@shared/auth/api-key.ts";
import { type Database, DEFAULT_RPC_TIMEOUT_MS } from "@shared/db/database.ts";
import { type RateLimitState, RPC_NAMES } from "@shared/db/rpc-catalogue.ts";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { CLIENT_INFO, createSupabaseDatabase } from "@shared/db/supabase-database.ts";
import { DatabaseUnavailableError } from "@shared/db/unavailable.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { expectError } from "../support/assertions.ts";
import { databaseUrl, db, insertCampaign, newTenant, type TestTenant } from "../support/fixtures.ts";
import { call, startGateway } from "../support/gateway.ts";
import { lockCampaignRow } from "../support/locks.ts";
import { freePort, startHangingUpPeer, startSilentPeer } from "../support/network.ts";
import { type PostgrestStandIn, startPostgrestStandIn } from "../support/postgrest-stand-in.ts";

const SECRET_KEY = "sb_secret_standin0000000000000000000000";

let standIn: PostgrestStandIn;
let viaSupabase: Database;
let viaPostgres: PostgresDatabase;
let tenant: TestTenant;

beforeAll(async () => {
  standIn = await startPostgrestStandIn({ databaseUrl: databaseUrl(), key: SECRET_KEY });
  viaSupabase = createSupabaseDatabase(standIn.url, SECRET_KEY);
  viaPostgres = createPostgresDatabase(databaseUrl(), { maxConnections: 4 });
  tenant = await newTenant();
});
afterAll(async () => {
  await standIn.close();
  await viaPostgres.close();
});
// Anything PostgREST (or the API front before it) would have refused fails the test that sent it.
afterEach(() => expect(standIn.problems).toEqual([]));

/** The seam without the catalogue's types, for calls the catalogue rightly refuses (unknown names, bad arguments). */
type UntypedDatabase = { rpc<T>(name: string, args: Record<string, unknown>): Promise<T> };
const untyped = (db: Database) => db as unknown as UntypedDatabase;

/** The same RPC through both sides of the seam. */
async function throughBoth<T>(name: string, args: Record<string, unknown>): Promise<[T, T]> {
  return [await untyped(viaSupabase).rpc<T>(name, args), await untyped(viaPostgres).rpc<T>(name, args)];
}

/** Both sides' rejection for the same call. */
async function rejectionsOf(name: string, args: Record<string, unknown>): Promise<[unknown, unknown]> {
  const fail = (db: Database) => untyped(db).rpc(name, args).then(() => new Error(`${name} did not fail`), (e) => e);
  const results = [await fail(viaSupabase), await fail(viaPostgres)] as const;
  return [...results];
}

const lastRequest = () => standIn.requests.at(-1)!;
const withoutIdentity = (c: Record<string, unknown>) => ({
  ...c,
  id: undefined,
  created_at: undefined,
  updated_at: undefined,
});

describe("what the seam sends (as PostgREST receives it)", () => {
  it("POST /rest/v1/rpc/<fn> with supabase-js's headers, and the arguments as one JSON object", async () => {
    const fields = { name: "Wire check", send_on_weekends: true, daily_send_limit: 20 };
    await viaSupabase.rpc("create_campaign", { p_workspace_id: tenant.workspaceId, p_fields: fields });
    const req = lastRequest();
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/rest/v1/rpc/create_campaign");
    expect(req.headers.apikey).toBe(SECRET_KEY);
    expect(req.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["content-profile"]).toBe("public");
    expect(req.headers["x-client-info"]).toBe(CLIENT_INFO);
    // jsonb arguments travel as nested JSON, not as strings.
    expect(JSON.parse(req.body)).toEqual({ p_workspace_id: tenant.workspaceId, p_fields: fields });
    expect(req.status).toBe(200);
  });

  it("X-Client-Info names the postgrest-js version package.json pins", async () => {
    const pkg = JSON.parse(await readFile(path.join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(CLIENT_INFO).toBe(`postgrest-js/${pkg.dependencies["@supabase/postgrest-js"]}`);
  });

  it("a wrong secret key is refused (401): a plain Error, a misconfiguration rather than 'unavailable'", async () => {
    const misconfigured = createSupabaseDatabase(standIn.url, "sb_secret_wrong");
    const error = await misconfigured.rpc("health_check", {}).then(() => undefined, (e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(DatabaseUnavailableError);
    expect(lastRequest().status).toBe(401);
    expect(standIn.problems.splice(0)).toEqual(["Invalid API key (apikey header)"]);
  });

  it("sends a failed POST once: no retries", async () => {
    const before = standIn.requests.length;
    await expect(viaSupabase.rpc("get_campaign", { p_workspace_id: tenant.workspaceId, p_id: "nope" })).rejects
      .toThrow();
    expect(standIn.requests.length - before).toBe(1);
  });
});

describe("both sides give the same results", () => {
  it("resolve_api_key: a known key, an unknown hash", async () => {
    const [s, p] = await throughBoth<Record<string, unknown>>("resolve_api_key", {
      p_key_hash: hashApiKey(tenant.key),
    });
    expect(s).toEqual(p);
    expect(s).toMatchObject({
      outcome: "ok",
      workspace_id: tenant.workspaceId,
      key_id: tenant.keyId,
      rate_limit: null,
    });

    const unknown = await throughBoth("resolve_api_key", { p_key_hash: "00".repeat(32) });
    expect(unknown).toEqual([{ outcome: "invalid_key" }, { outcome: "invalid_key" }]);
  });

  it("resolve_api_key counts a metered key through PostgREST too (it writes, so it must run read-write)", async () => {
    const metered = await newTenant({ plan: "starter", tier: "standard" });
    const hash = hashApiKey(metered.key);
    const [s, p] = await throughBoth<{ rate_limit: RateLimitState }>("resolve_api_key", { p_key_hash: hash });
    const { limit, reset, remaining } = p.rate_limit;
    expect(s.rate_limit).toMatchObject({ limit, reset, remaining: remaining + 1 });
    expect(p.rate_limit).toMatchObject({ limit: 100, remaining: 98 });
    expect(p.rate_limit.windows.map((w) => [w.name, w.quota])).toEqual([["day", 100], ["minute", 10]]);
  });

  it("create_campaign, then get_campaign of either campaign through either side", async () => {
    const args = { p_workspace_id: tenant.workspaceId, p_fields: { name: "Same", description: 'ü ✓ "quoted"' } };
    const [s, p] = await throughBoth<{ outcome: string; campaign: Record<string, unknown>; deliveries: number }>(
      "create_campaign",
      args,
    );
    expect(s.outcome).toBe("ok");
    expect({ ...s, campaign: withoutIdentity(s.campaign) }).toEqual({ ...p, campaign: withoutIdentity(p.campaign) });

    for (const created of [s.campaign, p.campaign]) {
      const got = await throughBoth("get_campaign", { p_workspace_id: tenant.workspaceId, p_id: created.id });
      expect(got).toEqual([{ outcome: "ok", campaign: created }, { outcome: "ok", campaign: created }]);
    }
    const missing = await throughBoth("get_campaign", {
      p_workspace_id: tenant.workspaceId,
      p_id: crypto.randomUUID(),
    });
    expect(missing).toEqual([{ outcome: "not_found" }, { outcome: "not_found" }]);
  });

  it("delete_campaign: not_found, not_draft and ok", async () => {
    const ws = { p_workspace_id: tenant.workspaceId };
    const active = await insertCampaign(tenant.workspaceId, { status: "active" });
    expect(await throughBoth("delete_campaign", { ...ws, p_id: active })).toEqual([
      { outcome: "not_draft", status: "active" },
      { outcome: "not_draft", status: "active" },
    ]);

    const first = await insertCampaign(tenant.workspaceId);
    const second = await insertCampaign(tenant.workspaceId);
    expect(await viaSupabase.rpc("delete_campaign", { ...ws, p_id: first })).toEqual({
      outcome: "ok",
      id: first,
      deliveries: 0,
    });
    expect(await viaPostgres.rpc("delete_campaign", { ...ws, p_id: second })).toEqual({
      outcome: "ok",
      id: second,
      deliveries: 0,
    });
    for (const id of [first, second]) {
      expect(await throughBoth("delete_campaign", { ...ws, p_id: id })).toEqual([{ outcome: "not_found" }, {
        outcome: "not_found",
      }]);
    }
  });

  it("list_campaigns, with and without a status filter (null travels as JSON null)", async () => {
    const t = await newTenant();
    await insertCampaign(t.workspaceId, { name: "a" });
    await insertCampaign(t.workspaceId, { name: "b", status: "paused" });
    const all = await throughBoth<{ campaigns: unknown[]; total: number }>("list_campaigns", {
      p_workspace_id: t.workspaceId,
      p_status: null,
      p_page: 1,
      p_per_page: 50,
      p_after_created_at: null,
      p_after_id: null,
    });
    expect(all[0]).toEqual(all[1]);
    expect(all[0].total).toBe(2);
    const paused = await throughBoth<{ campaigns: unknown[]; total: number }>("list_campaigns", {
      p_workspace_id: t.workspaceId,
      p_status: "paused",
      p_page: 1,
      p_per_page: 50,
      p_after_created_at: null,
      p_after_id: null,
    });
    expect(paused[0]).toEqual(paused[1]);
    expect(paused[0].campaigns).toMatchObject([{ name: "b", status: "paused" }]);
  });

  it("health_check", async () => {
    expect(await throughBoth("health_check", {})).toEqual([{ status: "ok" }, { status: "ok" }]);
  });
});

describe("a function that raises is a bug on both sides: a plain Error (the gateway's 500), never 'unavailable'", () => {
  it.each([
    [
      "a foreign-key violation (PostgREST: 409)",
      "create_campaign",
      () => ({ p_workspace_id: crypto.randomUUID(), p_fields: { name: "x" } }),
      409,
    ],
    [
      "a not-null violation (PostgREST: 400)",
      "create_campaign",
      () => ({ p_workspace_id: tenant.workspaceId, p_fields: {} }),
      400,
    ],
    [
      "an argument of the wrong type (PostgREST: 400)",
      "get_campaign",
      () => ({ p_workspace_id: tenant.workspaceId, p_id: "cmp_1" }),
      400,
    ],
    ["an unknown function (PostgREST: 404)", "no_such_function", () => ({ p_x: 1 }), 404],
  ])("%s", async (_, name, args, status) => {
    const [s, p] = await rejectionsOf(name, args());
    expect(lastRequest().status).toBe(status);
    for (const error of [s, p]) {
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(DatabaseUnavailableError);
    }
  });
});

describe("the supabase side reports an unreachable or slow database as DatabaseUnavailableError", () => {
  const GENEROUS_MS = 15_000;

  async function expectUnavailable(db: Database) {
    const started = Date.now();
    await expect(db.rpc("health_check", {})).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(Date.now() - started).toBeLessThan(GENEROUS_MS);
  }

  it("connection refused", async () => {
    await expectUnavailable(createSupabaseDatabase(`http://127.0.0.1:${await freePort()}`, SECRET_KEY));
  });

  it("the server hangs up without answering", async () => {
    const peer = await startHangingUpPeer();
    try {
      await expectUnavailable(createSupabaseDatabase(`http://127.0.0.1:${peer.port}`, SECRET_KEY));
      expect(peer.accepted).toBeGreaterThan(0);
    } finally {
      await peer.close();
    }
  });

  it("the server never answers (timeoutMs)", async () => {
    const peer = await startSilentPeer();
    try {
      await expectUnavailable(createSupabaseDatabase(`http://127.0.0.1:${peer.port}`, SECRET_KEY, { timeoutMs: 300 }));
    } finally {
      await peer.close();
    }
  });

  it("503 from PostgREST when it cannot reach Postgres", async () => {
    const deadDb = `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/postgres`;
    const orphan = await startPostgrestStandIn({ databaseUrl: deadDb, key: SECRET_KEY });
    try {
      await expectUnavailable(createSupabaseDatabase(orphan.url, SECRET_KEY));
      expect(orphan.requests.map((r) => r.status)).toEqual([503]);
    } finally {
      await orphan.close();
    }
  });

  it("57014 (statement timeout, PostgREST: 500) while the row is locked; the row is untouched", async () => {
    const impatient = await startPostgrestStandIn({
      databaseUrl: databaseUrl(),
      key: SECRET_KEY,
      statementTimeoutMs: 200,
    });
    const id = await insertCampaign(tenant.workspaceId);
    const lock = await lockCampaignRow(id);
    try {
      const rpc = createSupabaseDatabase(impatient.url, SECRET_KEY).rpc("delete_campaign", {
        p_workspace_id: tenant.workspaceId,
        p_id: id,
      });
      await expect(rpc).rejects.toBeInstanceOf(DatabaseUnavailableError);
      expect(impatient.requests.map((r) => r.status)).toEqual([500]);
    } finally {
      await lock.release();
      await impatient.close();
    }
    expect(await db()`select 1 from public.campaigns where id = ${id}`).toHaveLength(1);
  });

  it("57P01 (the server terminated the connection, PostgREST: 503)", async () => {
    const id = await insertCampaign(tenant.workspaceId);
    const lock = await lockCampaignRow(id);
    try {
      const before = standIn.requests.length;
      const rpc = viaSupabase.rpc("delete_campaign", { p_workspace_id: tenant.workspaceId, p_id: id }).then(
        () => undefined,
        (e) => e,
      );
      let terminated = false;
      for (let i = 0; i < 200 && !terminated; i++) {
        const [row] = await db()`
          select pg_terminate_backend(pid) as done from pg_stat_activity
           where application_name = 'postgrest-stand-in' and wait_event_type = 'Lock' limit 1`;
        terminated = Boolean(row?.done);
        if (!terminated) await new Promise((r) => setTimeout(r, 25));
      }
      expect(terminated).toBe(true);
      expect(await rpc).toBeInstanceOf(DatabaseUnavailableError);
      expect(standIn.requests.slice(before).map((r) => r.status)).toEqual([503]);
    } finally {
      await lock.release();
    }
    // The stand-in's pool reconnects: the next call works.
    expect(await viaSupabase.rpc("health_check", {})).toEqual({ status: "ok" });
  });
});

describe("end to end: the gateway built on the supabase seam", () => {
  it("creates and deletes a campaign over HTTP with the documented bodies", async () => {
    const gateway = await startGateway({ db: createSupabaseDatabase(standIn.url, SECRET_KEY) });
    try {
      expect(await call(`${gateway.url}/health`)).toMatchObject({ status: 200, body: { status: "ok" } });
      const created = await call(`${gateway.url}/v1/campaigns`, {
        method: "POST",
        key: tenant.key,
        body: { name: "E2E" },
      });
      expect(created.status).toBe(201);
      const id = created.body.data.campaign.id;

      const before = standIn.requests.length;
      const deleted = await call(`${gateway.url}/v1/campaigns/${id}`, { method: "DELETE", key: tenant.key });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ data: { deleted: true, id } });
      // One round trip: the key, its count and permission, and the operation, for the key's own workspace.
      expect(standIn.requests.slice(before).map((r) => [r.path, JSON.parse(r.body)])).toEqual([
        ["/rest/v1/rpc/gateway_request", {
          p_key_hash: hashApiKey(tenant.key),
          p_permission: "campaigns:write",
          p_rpc: "delete_campaign",
          p_args: { p_id: id },
          p_idempotency: null,
        }],
      ]);

      const again = await call(`${gateway.url}/v1/campaigns/${id}`, { method: "DELETE", key: tenant.key });
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe("campaign_not_found");
    } finally {
      await gateway.close();
    }
  });
});

describe("the database gives up before the seam does (PostgREST: service_role's 8 s against the seam's 5 s)", () => {
  it("every RPC the functions call has its own statement_timeout, below the seam's deadline", async () => {
    const owner = ["prune_webhook_history", "prune_idempotency_keys"]; // pg_cron and the local runner, as the owner
    const rows = await db()<{ name: string; ms: number | null }[]>`
      select p.proname as name,
             (select extract(epoch from substr(c, length('statement_timeout=') + 1)::interval) * 1000
                from unnest(p.proconfig) as c where c like 'statement\\_timeout=%')::int as ms
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.proname = any (${RPC_NAMES.filter((name) => !owner.includes(name))})`;
    expect(rows.length).toBe(RPC_NAMES.length - owner.length);
    for (const { name, ms } of rows) {
      expect(ms, name).not.toBeNull();
      expect(ms!, name).toBeLessThan(DEFAULT_RPC_TIMEOUT_MS);
    }
  });

  it("a 503 from the gateway means nothing committed, even once the row lock goes", async () => {
    // The hosted default: service_role's 8 s, and the seam's own 5 s deadline.
    const hosted = await startPostgrestStandIn({
      databaseUrl: databaseUrl(),
      key: SECRET_KEY,
      statementTimeoutMs: 8_000,
    });
    const gateway = await startGateway({ db: createSupabaseDatabase(hosted.url, SECRET_KEY) });
    const id = await insertCampaign(tenant.workspaceId);
    const lock = await lockCampaignRow(id);
    try {
      const res = await call(`${gateway.url}/v1/campaigns/${id}`, { method: "DELETE", key: tenant.key });
      expectError(res, 503, "service_unavailable");
    } finally {
      await lock.release();
    }
    try {
      // Whatever PostgREST was still running for that request has ended once it has answered.
      for (let i = 0; i < 400 && hosted.requests.some((r) => r.status === undefined); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(hosted.requests.map((r) => r.status)).toEqual([500]);
      expect(await db()`select status from public.campaigns where id = ${id}`).toEqual([{ status: "draft" }]);
      expect(await db()`select 1 from public.webhook_events where data -> 'campaign' ->> 'id' = ${id}`).toHaveLength(0);
    } finally {
      await gateway.close();
      await hosted.close();
    }
  });
});
