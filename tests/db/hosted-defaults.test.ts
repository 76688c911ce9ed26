// The migrations on a database bootstrapped as a Supabase project created today (no default grants on public to
// the Data API roles), applied with the pinned CLI, and every function service_role may execute called as
// service_role with real rows, through its main path. On such a project the functions run as service_role
// (PostgREST switches to it for the secret key) and are SECURITY INVOKER: a missing grant is a 42501 in production.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "@shared/auth/api-key.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { ALL_PERMISSIONS } from "../support/fixtures.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";

let pdb: PrivateDatabase;
let rows: Awaited<ReturnType<typeof arrangeRows>>;

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  rows = await arrangeRows(pdb.sql);
});
afterAll(() => pdb?.drop());

/** One of every kind of row, arranged as the owner, so each call below finds what its main path needs. */
async function arrangeRows(sql: postgres.Sql) {
  const workspace = await createWorkspace(sql, { name: "hosted defaults", plan: "pro" });
  const ws = workspace.id;
  // Metered, so resolve_api_key writes the rate-limit counters.
  const admin = await createApiKey(sql, { workspaceId: ws, permissions: ALL_PERMISSIONS, tier: "standard" });
  const reader = await createApiKey(sql, { workspaceId: ws, permissions: ["campaigns:read"] });
  const campaign = async (status: string) =>
    (await sql<{ id: string }[]>`
      insert into public.campaigns (workspace_id, name, status) values (${ws}, ${status}, ${status}) returning id`)[0]
      .id;
  const [endpoint] = await sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${ws}, 'https://hooks.example.com/hosted', ${["campaign.created", "campaign.started"]}, 'whsec_x')
    returning id`;
  const [event] = await sql<{ id: string }[]>`
    insert into public.webhook_events (workspace_id, event, data) values (${ws}, 'campaign.created', '{}')
    returning id`;
  const delivery = async (status: string, attempts: number, leased: boolean) =>
    (await sql<{ id: string }[]>`
      insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts, lease_expires_at)
      values (${ws}, ${event.id}, ${endpoint.id}, ${status}, ${attempts},
              case when ${leased} then now() + interval '1 hour' end)
      returning id`)[0].id;
  const due = await delivery("pending", 0, false);
  const leased = await delivery("pending", 1, true);
  const failed = await delivery("failed", 1, false);
  await sql`
    insert into public.webhook_attempts (delivery_id, endpoint_id, attempt, status, status_code, error, duration_ms)
    values (${failed}, ${endpoint.id}, 1, 'failed', 500, 'http_error', 12)`;
  return {
    ws,
    adminKeyId: admin.id,
    adminKeyHash: hashApiKey(admin.key),
    readerKeyId: reader.id,
    draft: await campaign("draft"),
    doomed: await campaign("draft"),
    active: await campaign("active"),
    paused: await campaign("paused"),
    endpoint: endpoint.id,
    due,
    leased,
    failed,
  };
}

type Rows = typeof rows;
interface Call {
  /** Runs the call (as service_role) and returns its result. */
  run(tx: postgres.TransactionSql, r: Rows): Promise<unknown>;
  /** Whether the result is the main path's (an ok outcome, rows found), not a refusal. */
  // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
  main(result: any): boolean;
}

const value = async (query: Promise<{ v: unknown }[]>) => (await query)[0].v;
// deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
const ok = (result: any) => result?.outcome === "ok";

/**
 * Every function in public, and how to call it. A function missing here fails the test by name: add its call.
 * Listed in an order in which each call leaves the rows the next ones need.
 */
const CALLS: Record<string, Call> = {
  health_check: { run: (tx) => value(tx`select public.health_check() as v`), main: (r) => r.status === "ok" },
  plan_limits: {
    run: async (tx) => (await tx`select * from public.plan_limits('pro', 'high')`)[0],
    main: (r) => r.per_day === 10000 && r.per_minute === 500,
  },
  iso_utc: { run: (tx) => value(tx`select public.iso_utc(now()) as v`), main: (r) => /Z$/.test(r) },
  list_position: {
    run: (tx) => value(tx`select public.list_position(now(), 7::bigint) as v`),
    main: (r) => /\.\d{6}Z$/.test(r.created_at) && r.id === "7",
  },
  uuid_v7: { run: (tx) => value(tx`select public.uuid_v7() as v`), main: (r) => r[14] === "7" },
  resolve_api_key: {
    // Twice: the first request inserts the workspace's counter row, the second updates it.
    run: async (tx, r) => {
      await tx`select public.resolve_api_key(${r.adminKeyHash})`;
      return value(tx`select public.resolve_api_key(${r.adminKeyHash}) as v`);
    },
    main: (r) => ok(r) && r.rate_limit.remaining === 998,
  },
  key_for_request: {
    run: async (tx, r) => (await tx`select * from public.key_for_request(${r.adminKeyHash}, now())`)[0],
    main: (r) => r.plan === "pro",
  },
  rate_limit_answer: {
    run: (tx) => value(tx`select public.rate_limit_answer(100, 10, 3, 1, false, now()) as v`),
    main: (r) => ok(r) && r.rate_limit.remaining === 97,
  },
  rate_limit_usage: {
    run: async (tx, r) => (await tx`select * from public.rate_limit_usage(${r.ws}, clock_timestamp())`)[0],
    main: (r) => r.day_used === 2,
  },
  rate_limit_precheck: {
    run: (tx, r) => value(tx`select public.rate_limit_precheck(${r.ws}, 2, 50, clock_timestamp()) as v`),
    main: (r) => r?.outcome === "rate_limited",
  },
  rate_limit_count: {
    run: (tx, r) => value(tx`select public.rate_limit_count(${r.ws}, 1000, 50, clock_timestamp()) as v`),
    main: (r) => ok(r) && r.rate_limit.remaining === 997,
  },
  stamp_key_used: {
    run: async (tx, r) => {
      await tx`select public.stamp_key_used(${r.readerKeyId}, now())`;
      return value(tx`select last_used_at is not null as v from public.api_keys where id = ${r.readerKeyId}`);
    },
    main: (r) => r === true,
  },
  key_identity: {
    run: (tx, r) => value(tx`select public.key_identity(${r.adminKeyId}, ${r.ws}, 'wbk_x', '{campaigns:read}') as v`),
    main: (r) => r.key_prefix === "wbk_x" && r.permissions[0] === "campaigns:read",
  },
  gateway_request: {
    // Twice with one Idempotency-Key: the first claims it and stores the result, the second replays it.
    run: async (tx, r) => {
      const claim = tx.json({ key_hash: "ab".repeat(32), fingerprint: "cd".repeat(32), sealed: null });
      const args = tx.json({ p_id: r.draft });
      await tx`select public.gateway_request(${r.adminKeyHash}, 'campaigns:read', 'get_campaign', ${args}, ${claim})`;
      return value(
        tx`select public.gateway_request(${r.adminKeyHash}, 'campaigns:read', 'get_campaign', ${args}, ${claim}) as v`,
      );
    },
    main: (r) => ok(r.auth) && r.permitted === true && ok(r.result) && r.replayed === true,
  },
  gateway_preflight: {
    run: (tx, r) => value(tx`select public.gateway_preflight(${r.adminKeyHash}, 'webhooks:write') as v`),
    main: (r) => r === "ok",
  },
  gateway_run: {
    run: (tx, r) =>
      value(
        tx`select public.gateway_run('get_campaign', ${r.ws}, ${r.adminKeyId}, ${
          tx.json({ p_id: r.draft })
        }, null, now()) as v`,
      ),
    main: (r) => ok(r.result),
  },
  idempotency_window: {
    run: (tx) => value(tx`select extract(epoch from public.idempotency_window())::int as v`),
    main: (r) => r === 86400,
  },
  idempotency_claim: {
    run: async (tx, r) => {
      const claimed = await value(tx`
        select public.idempotency_claim(${r.ws}, ${r.adminKeyId}, sha256('hosted'), sha256('request'), null, now())
               is null as v`);
      const again = await value(tx`
        select (public.idempotency_claim(${r.ws}, ${r.adminKeyId}, sha256('hosted'), sha256('request'), null,
                                         now())).api_key_id as v`);
      return claimed === true && again === r.adminKeyId;
    },
    main: (r) => r === true,
  },
  prune_idempotency_keys: {
    run: async (tx) => {
      await tx`update public.idempotency_keys set created_at = now() - interval '25 hours'`;
      return value(tx`select public.prune_idempotency_keys(5000, 4) as v`);
    },
    main: (r) => r.idempotency_keys === 2,
  },
  gateway_operation: {
    run: (tx, r) =>
      value(
        tx`select public.gateway_operation('get_campaign', ${r.ws}, ${r.adminKeyId}, ${
          tx.json({ p_id: r.draft })
        }) as v`,
      ),
    main: ok,
  },
  api_key_is_active: {
    run: (tx, r) =>
      value(tx`select public.api_key_is_active(k) as v from public.api_keys k where id = ${r.readerKeyId}`),
    main: (r) => r === true,
  },
  api_key_json: {
    run: (tx, r) => value(tx`select public.api_key_json(k) as v from public.api_keys k where id = ${r.readerKeyId}`),
    main: (r) => r.prefix?.startsWith("wbk_"),
  },
  api_key_excess: {
    run: (tx, r) =>
      value(tx`select public.api_key_excess(array['campaigns:read'], 'high', null, k, false) as v
                 from public.api_keys k where id = ${r.readerKeyId}`),
    main: (r) => r.tier_exceeds === true && r.permissions.length === 0,
  },
  rate_limit_tier_rank: {
    run: (tx) => value(tx`select public.rate_limit_tier_rank('high') as v`),
    main: (r) => r === 1,
  },
  create_api_key: {
    run: (tx, r) =>
      value(
        tx`select public.create_api_key(${r.ws}, ${"ab".repeat(32)}, 'wbk_test', ${
          tx.json({ name: "minted", permissions: ["campaigns:read"], rate_limit_tier: "standard" })
        }, ${r.adminKeyId}) as v`,
      ),
    main: ok,
  },
  list_api_keys: {
    run: (tx, r) => value(tx`select public.list_api_keys(${r.ws}, true, 1, 50, null, null) as v`),
    main: (r) => r.total === 3,
  },
  revoke_api_key: {
    run: (tx, r) =>
      value(tx`select public.revoke_api_key(${r.ws}, ${r.readerKeyId}, 'admin:api_keys', ${r.adminKeyId}) as v`),
    main: ok,
  },
  webhook_url_digest: {
    run: (tx) => value(tx`select public.webhook_url_digest('https://hooks.example.com/x') as v`),
    main: (r) => r instanceof Uint8Array && r.length === 32,
  },
  create_webhook: {
    run: (tx, r) =>
      value(
        tx`select public.create_webhook(${r.ws}, ${
          tx.json({ url: "https://hooks.example.com/created", events: ["campaign.paused"] })
        }, 'whsec_created') as v`,
      ),
    main: ok,
  },
  webhook_json: {
    run: (tx, r) =>
      value(tx`select public.webhook_json(e) as v from public.webhook_endpoints e where id = ${r.endpoint}`),
    main: (r) => r.id !== undefined && !("secret" in r),
  },
  get_webhook: { run: (tx, r) => value(tx`select public.get_webhook(${r.ws}, ${r.endpoint}) as v`), main: ok },
  update_webhook: {
    run: (tx, r) =>
      value(tx`select public.update_webhook(${r.ws}, ${r.endpoint}, ${tx.json({ description: "renamed" })}) as v`),
    main: ok,
  },
  list_webhooks: {
    run: (tx, r) => value(tx`select public.list_webhooks(${r.ws}, 1, 50, null, null) as v`),
    // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
    main: (r) => r.total === 2 && r.webhooks.some((w: any) => w.last_delivery_status === "failed"),
  },
  create_campaign: {
    run: (tx, r) => value(tx`select public.create_campaign(${r.ws}, ${tx.json({ name: "created" })}) as v`),
    // The endpoint is subscribed to campaign.created: the event queues a delivery.
    main: (r) => ok(r) && r.deliveries === 1,
  },
  campaign_json: {
    run: (tx, r) => value(tx`select public.campaign_json(c) as v from public.campaigns c where id = ${r.draft}`),
    main: (r) => r.status === "draft",
  },
  get_campaign: { run: (tx, r) => value(tx`select public.get_campaign(${r.ws}, ${r.draft}) as v`), main: ok },
  list_campaigns: {
    run: (tx, r) => value(tx`select public.list_campaigns(${r.ws}, null, 1, 50, null, null) as v`),
    main: (r) => r.total === 5,
  },
  update_campaign: {
    run: (tx, r) => value(tx`select public.update_campaign(${r.ws}, ${r.draft}, ${tx.json({ name: "renamed" })}) as v`),
    main: ok,
  },
  start_campaign: {
    run: (tx, r) => value(tx`select public.start_campaign(${r.ws}, ${r.draft}) as v`),
    main: (r) => ok(r) && r.deliveries === 1,
  },
  pause_campaign: { run: (tx, r) => value(tx`select public.pause_campaign(${r.ws}, ${r.active}) as v`), main: ok },
  transition_campaign: {
    run: (tx, r) =>
      value(tx`select public.transition_campaign(${r.ws}, ${r.paused}, ${["paused"]}, 'active', 'campaign.started',
                                                 'not_startable') as v`),
    main: ok,
  },
  delete_campaign: { run: (tx, r) => value(tx`select public.delete_campaign(${r.ws}, ${r.doomed}) as v`), main: ok },
  enqueue_webhook_event: {
    run: (tx, r) => value(tx`select public.enqueue_webhook_event(${r.ws}, 'campaign.started', '{}'::json) as v`),
    main: (r) => r === 1,
  },
  send_test_webhook: {
    run: (tx, r) => value(tx`select public.send_test_webhook(${r.ws}, ${r.endpoint}, 'webhook.test') as v`),
    main: ok,
  },
  webhook_delivery_due: {
    run: (tx) => value(tx`select public.webhook_delivery_due() as v`),
    main: (r) => r === true,
  },
  webhook_dispatch_fan_out: {
    run: (tx) => value(tx`select public.webhook_dispatch_fan_out(250, 4) as v`),
    main: (r) => r === 1,
  },
  claim_webhook_deliveries: {
    run: (tx) => value(tx`select public.claim_webhook_deliveries(100, 30) as v`),
    // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
    main: (r) => r.deliveries.length > 0 && r.deliveries.every((d: any) => d.secrets.length > 0 && d.url),
  },
  record_webhook_attempt: {
    // A final failure of a 410: the attempt is logged, the endpoint disabled and the notice queued.
    run: (tx, r) =>
      value(tx`select public.record_webhook_attempt(${r.leased}, 1, 410, 'http_error', 'gone', 15, null, true, null,
                                                    432000) as v`),
    main: (r) => r.outcome === "failed" && r.disabled === "gone",
  },
  gateway_caller_arguments: {
    run: (tx) => value(tx`select public.gateway_caller_arguments() as v`),
    main: (r) => r.p_workspace_id === "workspace",
  },
  gateway_operation_source: {
    run: (tx) => value(tx`select public.gateway_operation_source() as v`),
    main: (r) => r.includes("when 'delete_campaign' then"),
  },
  webhook_circuit_open_seconds: {
    run: (tx) => value(tx`select public.webhook_circuit_open_seconds(3, 30, 3600) as v`),
    main: (r) => r === 120,
  },
  webhook_endpoint_attempted: {
    // A failure: the endpoint's streak grows; one failure does not open its circuit.
    run: (tx, r) => value(tx`select public.webhook_endpoint_attempted(${r.endpoint}, false, 5, 30, 3600) is null as v`),
    main: (r) => r === true,
  },
  list_webhook_logs: {
    run: (tx, r) => value(tx`select public.list_webhook_logs(${r.ws}, ${r.endpoint}, null, 1, 50, null, null) as v`),
    main: (r) => ok(r) && r.total === 2,
  },
  webhook_attempt_json: {
    run: (tx, r) =>
      value(tx`select public.webhook_attempt_json(a, 'campaign.created') as v from public.webhook_attempts a
                where delivery_id = ${r.failed}`),
    main: (r) => r.status === "failed" && r.status_code === 500,
  },
  webhook_delivery_json: {
    run: (tx, r) =>
      value(tx`select public.webhook_delivery_json(d) as v from public.webhook_deliveries d where id = ${r.failed}`),
    main: (r) => r.delivery_id !== undefined && r.attempts === 1 && r.last_status_code === 500,
  },
  list_webhook_deliveries: {
    run: (tx, r) =>
      value(tx`select public.list_webhook_deliveries(${r.ws}, ${r.endpoint}, 'failed', 1, 50, null, null) as v`),
    // deno-lint-ignore no-explicit-any -- a JSON answer, read as the test reads it
    main: (r) => ok(r) && r.total > 0 && r.deliveries.every((d: any) => d.status === "failed"),
  },
  get_webhook_delivery: {
    run: (tx, r) => value(tx`select public.get_webhook_delivery(${r.ws}, ${r.endpoint}, ${r.failed}) as v`),
    main: (r) => ok(r) && r.attempts.length === 1,
  },
  rotate_webhook_secret: {
    run: (tx, r) => value(tx`select public.rotate_webhook_secret(${r.ws}, ${r.endpoint}, 'whsec_rotated', 60) as v`),
    // The answer leaves the secret out (the gateway shows the one it chose); the row holds it.
    main: (r) => ok(r) && r.webhook.id && !("secret" in r.webhook),
  },
  recover_webhook_deliveries: {
    // The 410 above disabled the endpoint, and a disabled endpoint is refused: enabled again first, as a PATCH does.
    run: async (tx, r) => {
      await tx`update public.webhook_endpoints set active = true where id = ${r.endpoint}`;
      return value(
        tx`select public.recover_webhook_deliveries(${r.ws}, ${r.endpoint}, '2000-01-01Z', null, true) as v`,
      );
    },
    main: (r) => ok(r) && r.count > 0 && r.requeued === 0,
  },
  retry_webhook_delivery: {
    run: (tx, r) => value(tx`select public.retry_webhook_delivery(${r.ws}, ${r.endpoint}, ${r.failed}) as v`),
    main: ok,
  },
  delete_webhook: {
    run: (tx, r) => value(tx`select public.delete_webhook(${r.ws}, ${r.endpoint}) as v`),
    main: (r) => ok(r) && r.cancelled > 0,
  },
  prune_webhook_history: {
    // Keeping 0 days: every finished delivery goes, with its attempts; pending ones and their events stay.
    run: (tx) => value(tx`select public.prune_webhook_history(0, 5000, 4) as v`),
    main: (r) => r.deliveries > 0 && r.attempts > 0,
  },
};

describe("on a project created today (no default grants on public)", () => {
  it("service_role runs every function it may execute through its main path, without 42501", async () => {
    const executable = await pdb.sql<{ name: string }[]>`
      select p.proname as name from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and has_function_privilege('service_role', p.oid, 'execute')
         -- Trigger functions run only as their triggers (gateway_operations_changed: tests/db/gateway-operations).
         and p.prorettype <> 'trigger'::regtype`;
    const names = executable.map((f) => f.name);
    expect(names.length).toBeGreaterThanOrEqual(30);
    expect(names.filter((name) => !(name in CALLS)), "functions with no call in CALLS").toEqual([]);

    // A connection of its own, each call in a transaction as service_role: what PostgREST does per request.
    const conn = postgres(pdb.url, { max: 1, onnotice: () => {} });
    const denied: string[] = [];
    const wrong: string[] = [];
    try {
      for (const [name, call] of Object.entries(CALLS).filter(([name]) => names.includes(name))) {
        try {
          const result = await conn.begin(async (tx) => {
            await tx`set local role service_role`;
            return call.run(tx, rows);
          });
          if (!call.main(result)) wrong.push(`${name}: ${JSON.stringify(result)}`);
        } catch (error) {
          const { code, message } = error as { code?: string; message?: string };
          (code === "42501" ? denied : wrong).push(`${name}: ${code} ${message}`);
        }
      }
      const [{ user }] = await conn.begin(async (tx) => {
        await tx`set local role service_role`;
        return tx<{ user: string }[]>`select current_user as user`;
      });
      expect(user).toBe("service_role");
    } finally {
      await conn.end();
    }
    expect(denied, `${denied.length} of ${names.length} functions denied`).toEqual([]);
    expect(wrong).toEqual([]);
    expect(Object.keys(CALLS).filter((name) => !names.includes(name)), "calls of functions that are gone").toEqual([]);
  });

  it("anon and authenticated reach no table, sequence or function in public", async () => {
    const reachable = await pdb.sql<{ kind: string; name: string; role: string }[]>`
      select 'relation' as kind, c.oid::regclass::text as name, r.role
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace,
             unnest(array['anon', 'authenticated']) as r (role)
       where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
         and (has_table_privilege(r.role, c.oid, 'select, insert, update, delete, truncate, references, trigger')
              or (c.relkind = 'S' and has_sequence_privilege(r.role, c.oid, 'usage, select, update')))
      union all
      select 'function', p.oid::regprocedure::text, r.role
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace,
             unnest(array['anon', 'authenticated']) as r (role)
       where n.nspname = 'public' and has_function_privilege(r.role, p.oid, 'execute')`;
    expect(reachable).toEqual([]);
    // The check above must see what it is looking for: the identity sequence is there.
    const [{ count }] = await pdb.sql`
      select count(*)::int as count from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'S'`;
    expect(count).toBeGreaterThan(0);
  });
});
