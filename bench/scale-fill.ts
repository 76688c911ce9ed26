// The data `npm run bench:scale` measures against, generated in SQL: workspaces with a key, a rate-limit counter,
// two webhook endpoints, campaigns, events delivered to both endpoints with their attempts (history spread over
// the 30 days retention keeps), pending deliveries (most waiting for a retry, a fixed backlog due now), and live
// idempotency keys. What retention prunes is added by prepareWork, the same
// amount at every size: the steady state of a job that keeps up, not the backlog of one that never ran.
import type postgres from "postgres";

/** Production's size at scale 1 (issue 21); every count is multiplied by the scale. */
export const PRODUCTION = {
  workspaces: 10_000,
  campaigns: 1_000_000,
  /** Each event goes to both of its workspace's endpoints: deliveries = 2 x events. */
  events: 500_000,
  attemptsPerDelivery: 5,
  pendingShare: 0.1,
  liveIdempotencyKeys: 1_000_000,
};
/** Due now, whatever the scale: the backlog one claim after another takes from (64 each, as the dispatcher does). */
export const DUE_BACKLOG = 2000;
/**
 * The endpoints that backlog is due on (at most 50 each), the same number at every size: a claim examines every
 * endpoint with something due, so a backlog spread wider would cost more at any size.
 */
const BACKLOG_ENDPOINTS = 45;
export const RETENTION_DAYS = 30;
/**
 * Deliveries and events get time-ordered ids (uuid_v7, their rows' own times), as since migration 20261209000100;
 * BENCH_RANDOM_IDS=1 gives them random ids instead, as a history written before it has (for up to one retention
 * period after the migration).
 */
const RANDOM_IDS = process.env.BENCH_RANDOM_IDS === "1";
/** The id of a row written at `at` (an SQL expression), as a fragment of `sql`'s queries. */
const idAt = (sql: postgres.TransactionSql, at: string) =>
  RANDOM_IDS ? sql.unsafe("gen_random_uuid()") : sql.unsafe(`public.uuid_v7(${at})`);
/** Just inside retention, so that only prepareWork's rows are prunable. */
const HISTORY_DAYS = RETENTION_DAYS - 1;

export interface FillCounts {
  workspaces: number;
  campaignsPerWorkspace: number;
  eventsPerWorkspace: number;
  idempotencyKeysPerWorkspace: number;
}

export function countsAt(scale: number): FillCounts {
  const workspaces = Math.max(1, Math.round(PRODUCTION.workspaces * scale));
  const per = (total: number) => Math.max(1, Math.round((total * scale) / workspaces));
  return {
    workspaces,
    campaignsPerWorkspace: per(PRODUCTION.campaigns),
    eventsPerWorkspace: per(PRODUCTION.events),
    idempotencyKeysPerWorkspace: per(PRODUCTION.liveIdempotencyKeys),
  };
}

/**
 * Secondary indexes of the filled tables, dropped while they are filled and built again after: building an
 * index once is many times faster than growing it row by row. Constraint indexes (primary keys, uniques) stay.
 */
const FILLED = [
  "campaigns",
  "webhook_events",
  "webhook_deliveries",
  "webhook_attempts",
  "idempotency_keys",
  "api_keys",
];

async function withoutSecondaryIndexes(sql: postgres.TransactionSql, fill: () => Promise<void>): Promise<void> {
  const indexes = await sql<{ name: string; definition: string }[]>`
    select i.indexname as name, i.indexdef as definition
      from pg_indexes i
     where i.schemaname = 'public' and i.tablename = any(${FILLED})
       and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`;
  for (const { name } of indexes) await sql.unsafe(`drop index public.${name}`);
  await fill();
  for (const { definition } of indexes) await sql.unsafe(definition);
}

/**
 * Adds `counts` worth of workspaces (names prefixed with `label`) and everything they hold. Foreign keys are not
 * checked row by row (session_replication_role = replica skips their triggers): every id comes from rows
 * inserted just before. Runs on one connection of its own, which it ends.
 */
export async function fill(sql: postgres.Sql, label: string, counts: FillCounts): Promise<void> {
  const pendingEvery = Math.round(1 / PRODUCTION.pendingShare);
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`set local synchronous_commit = off`;
    await tx`set local maintenance_work_mem = '512MB'`;
    await withoutSecondaryIndexes(tx, async () => {
      await tx`create temp table fill_ws on commit drop as
        select g as n, gen_random_uuid() as id from generate_series(1, ${counts.workspaces}::int) g`;
      await tx`insert into public.workspaces (id, name, plan)
        select id, ${label} || n, (array['starter', 'pro', 'org'])[1 + n % 3] from fill_ws`;
      await tx`insert into public.api_keys (workspace_id, key_hash, prefix, name, permissions, rate_limit_tier)
        select id, sha256(convert_to(${label} || n, 'UTF8')), 'wbk_' || left(md5(${label} || n), 8), 'scale',
               array['campaigns:read', 'campaigns:write', 'webhooks:read'], 'standard'
          from fill_ws`;
      await tx`insert into public.rate_limit_counters (workspace_id, day_start, day_count, minute_start, minute_count)
        select id, (now() at time zone 'UTC')::date, n % 90, date_trunc('minute', now()), n % 9 from fill_ws`;
      await tx`create temp table fill_ep on commit drop as
        select gen_random_uuid() as id, w.id as workspace_id, w.n, k from fill_ws w, generate_series(1, 2) k`;
      await tx`insert into public.webhook_endpoints (id, workspace_id, url, events, secret)
        select id, workspace_id, 'https://hooks.example.com/' || n || '/' || k,
               array['campaign.created', 'campaign.started', 'campaign.paused', 'campaign.deleted'],
               'whsec_' || md5(id::text)
          from fill_ep`;
      await tx`insert into public.campaigns (workspace_id, name, status, created_at, updated_at)
        select w.id, 'campaign ' || g, (array['draft', 'active', 'paused', 'completed'])[1 + g % 4], t, t
          from fill_ws w, generate_series(1, ${counts.campaignsPerWorkspace}::int) g,
               lateral (select now() - (g * interval '37 minutes') as t) ts`;
      await tx`create temp table fill_ev on commit drop as
        select ${idAt(tx, "t.at")} as id,
               w.id as workspace_id, w.n * 100000 + g as n, t.at
          from fill_ws w, generate_series(1, ${counts.eventsPerWorkspace}::int) g,
               lateral (select now() - ${HISTORY_DAYS} * interval '1 day' * (g::float8 / ${counts.eventsPerWorkspace})
                          as at) t`;
      await tx`insert into public.webhook_events (id, workspace_id, event, data, occurred_at)
        select id, workspace_id, 'campaign.created',
               json_build_object('campaign', json_build_object('id', id, 'name', 'campaign ' || n)), at
          from fill_ev`;
      // One in `pendingEvery` deliveries pending, waiting for a retry two to three hours away (so that none falls
      // due while the bench runs and the backlog due stays the one prepareWork makes); the others ended.
      await tx`create temp table fill_dl on commit drop as
        select ${idAt(tx, "ev.at")} as id, ev.workspace_id,
               ev.id as event_id, ep.id as endpoint_id, ev.at,
               case when ev.n % ${pendingEvery} = 0 then 'pending'
                    when ev.n % 20 = 1 then 'failed' else 'success' end as status
          from fill_ev ev join fill_ep ep on ep.workspace_id = ev.workspace_id`;
      await tx`insert into public.webhook_deliveries
          (id, workspace_id, event_id, endpoint_id, status, attempts, spent_attempts, next_attempt_at, created_at,
           completed_at)
        select id, workspace_id, event_id, endpoint_id, status, ${PRODUCTION.attemptsPerDelivery},
               ${PRODUCTION.attemptsPerDelivery},
               case when status = 'pending' then now() + interval '2 hours' + random() * interval '1 hour'
                    else at end,
               at, case when status <> 'pending' then at + interval '10 minutes' end
          from fill_dl`;
      await tx`insert into public.webhook_attempts
          (delivery_id, endpoint_id, attempt, status, status_code, error, duration_ms, created_at)
        select d.id, d.endpoint_id, k, s.status, s.code, s.error, 20 + k, d.at + k * interval '1 minute'
          from fill_dl d, generate_series(1, ${PRODUCTION.attemptsPerDelivery}) k,
               lateral (select case when k = ${PRODUCTION.attemptsPerDelivery} and d.status = 'success'
                                    then 'success' else 'failed' end as status) s0,
               lateral (select s0.status, case when s0.status = 'success' then 200 else 503 end as code,
                               case when s0.status = 'success' then null else 'http_error' end as error) s`;
      // Each stored for the workspace's one key, as a replay is bound to the key that made the request.
      await tx`insert into public.idempotency_keys (workspace_id, api_key_id, key_hash, fingerprint, result, created_at)
        select w.id, k.id, sha256(convert_to(${label} || w.n || '/' || g, 'UTF8')), sha256(convert_to(g::text, 'UTF8')),
               '{"outcome":"ok"}'::json, now() - g * interval '1 second'
          from fill_ws w join public.api_keys k on k.workspace_id = w.id,
               generate_series(1, ${counts.idempotencyKeysPerWorkspace}::int) g`;
    });
  });
}

/**
 * What the claim and the retention paths consume, made anew before each phase so that every phase times the same
 * work: a backlog of DUE_BACKLOG deliveries due now (at most 50 on each of BACKLOG_ENDPOINTS endpoints, taken from
 * deliveries that are not due, ended ones included), and `prunable` deliveries (5 attempts each) and idempotency keys past retention in
 * the workspace `workspaceId`, on its endpoint `endpointId`.
 */
export async function prepareWork(sql: postgres.Sql, workspaceId: string, endpointId: string, prunable: number) {
  // Leases the last phase's claims left unrecorded would come back as lost attempts in this phase's claims.
  await sql`update public.webhook_deliveries set lease_expires_at = null, leased_at = null
             where status = 'pending' and lease_expires_at is not null`;
  await sql`
    with due as (
      select count(*) as n from public.webhook_deliveries
       where status = 'pending' and next_attempt_at <= now() and lease_expires_at is null
    ), backlog_endpoints as (
      select e.id from public.webhook_endpoints e order by e.id limit ${BACKLOG_ENDPOINTS}
    ), ranked as (
      select d.id, row_number() over (partition by d.endpoint_id order by d.status <> 'pending', d.id) as k
        from public.webhook_deliveries d
        join backlog_endpoints b on b.id = d.endpoint_id
       where not (d.status = 'pending' and d.next_attempt_at <= now())
    )
    update public.webhook_deliveries d
       set status = 'pending', next_attempt_at = now() - interval '1 second', completed_at = null,
           lease_expires_at = null, leased_at = null
      from (select id from ranked where k <= 50 limit greatest(0, ${DUE_BACKLOG} - (select n from due))) pick
     where d.id = pick.id`;
  await sql.begin(async (tx) => {
    await tx`create temp table old_dl on commit drop as
      select ${idAt(tx, "t.at")} as id,
             ${idAt(tx, "t.at")} as event_id, t.at
        from generate_series(1, ${prunable}::int) g,
             lateral (select now() - ${RETENTION_DAYS + 31} * interval '1 day' + g * interval '1 second' as at) t`;
    await tx`insert into public.webhook_events (id, workspace_id, event, data, occurred_at)
      select event_id, ${workspaceId}, 'campaign.created', '{}'::json, at from old_dl`;
    await tx`insert into public.webhook_deliveries
        (id, workspace_id, event_id, endpoint_id, status, attempts, created_at, completed_at)
      select id, ${workspaceId}, event_id, ${endpointId}, 'success', 1, at, at from old_dl`;
    await tx`insert into public.webhook_attempts (delivery_id, endpoint_id, attempt, status, status_code, duration_ms, created_at)
      select id, ${endpointId}, 1, 'success', 200, 20, at from old_dl`;
    await tx`insert into public.idempotency_keys (workspace_id, api_key_id, key_hash, fingerprint, created_at)
      select ${workspaceId}, (select id from public.api_keys where workspace_id = ${workspaceId} limit 1),
             sha256(convert_to(gen_random_uuid()::text, 'UTF8')), sha256('\\x00'::bytea),
             now() - interval '25 hours' - g * interval '1 second'
        from generate_series(1, ${prunable}::int) g`;
  });
}

/** The largest tenant at scale 1: what the measured workspace grows to once the database is full. */
export const LARGEST = { campaigns: 20_000, events: 50_000 };

/**
 * Grows one workspace (its one endpoint `endpointId`) by `campaigns` campaigns and `events` events delivered to
 * that endpoint with their attempts, shaped as fill() shapes them, indexes in place.
 */
export async function growWorkspace(
  sql: postgres.Sql,
  workspaceId: string,
  endpointId: string,
  grow: { campaigns: number; events: number },
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`set local synchronous_commit = off`;
    await tx`insert into public.campaigns (workspace_id, name, status, created_at, updated_at)
      select ${workspaceId}, 'campaign ' || g, (array['draft', 'active', 'paused', 'completed'])[1 + g % 4], t, t
        from generate_series(1, ${grow.campaigns}::int) g,
             lateral (select now() - interval '1 hour' - g * interval '37 minutes' as t) ts`;
    await tx`create temp table grow_dl on commit drop as
      select ${idAt(tx, "t.at")} as id,
             ${idAt(tx, "t.at")} as event_id, g, t.at,
             case when g % 10 = 0 then 'pending' when g % 20 = 1 then 'failed' else 'success' end as status
        from generate_series(1, ${grow.events}::int) g,
             lateral (select now() - ${HISTORY_DAYS} * interval '1 day' * (g::float8 / ${grow.events}) as at) t`;
    await tx`insert into public.webhook_events (id, workspace_id, event, data, occurred_at)
      select event_id, ${workspaceId}, 'campaign.created', json_build_object('campaign', json_build_object('n', g)), at
        from grow_dl`;
    await tx`insert into public.webhook_deliveries
        (id, workspace_id, event_id, endpoint_id, status, attempts, spent_attempts, next_attempt_at, created_at,
         completed_at)
      select id, ${workspaceId}, event_id, ${endpointId}, status, ${PRODUCTION.attemptsPerDelivery},
             ${PRODUCTION.attemptsPerDelivery},
             case when status = 'pending' then now() + interval '2 hours' + random() * interval '1 hour' else at end,
             at, case when status <> 'pending' then at + interval '10 minutes' end
        from grow_dl`;
    await tx`insert into public.webhook_attempts
        (delivery_id, endpoint_id, attempt, status, status_code, error, duration_ms, created_at)
      select d.id, ${endpointId}, k, s, case when s = 'success' then 200 else 503 end,
             case when s = 'success' then null else 'http_error' end, 20 + k, d.at + k * interval '1 minute'
        from grow_dl d, generate_series(1, ${PRODUCTION.attemptsPerDelivery}) k,
             lateral (select case when k = ${PRODUCTION.attemptsPerDelivery} and d.status = 'success'
                                  then 'success' else 'failed' end as s) s0`;
  });
}
