// The hot paths `npm run bench:scale` times: each the one SQL call the gateway, the dispatcher or the retention
// job makes, through postgres.js with prepared statements as the functions make them, and, once per path, the
// same call on a session with auto_explain logging every nested statement's EXPLAIN (ANALYZE, BUFFERS).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type postgres from "postgres";
import { RETENTION_DAYS } from "./scale-fill.ts";
import { type LatencySummary, summarize } from "./stats.ts";

/** The workspace the gateway paths run as: its key's hash, and what its requests name. */
export interface Subject {
  keyHash: string;
  limitedKeyHash: string;
  endpointId: string;
  readId: string;
  replay: { fields: Record<string, unknown>; idempotency: { key_hash: string; fingerprint: string; sealed: null } };
  /** Fresh drafts, one per delete. */
  nextDraft(): string;
  /** Where a client that walked to each list's last page stands, found once the deletes have run. */
  lastPage: { campaigns: () => Promise<LastPage>; deliveries: () => Promise<LastPage>; logs: () => Promise<LastPage> };
}

/** A list's last page as a client reaches it: by its number (offset), or by the cursor the page before gave. */
export interface LastPage {
  page: number;
  /** The position of the page before's last row, as the gateway passes a cursor's; null with a single page. */
  after: { p_after_created_at: string; p_after_id: string } | null;
}

/** The last page of the rows of `table` whose `column` is `value`, in the lists' order (50 a page, the default). */
export async function lastPageOf(
  sql: postgres.Sql,
  table: "campaigns" | "webhook_deliveries" | "webhook_attempts",
  column: "workspace_id" | "endpoint_id",
  value: string,
): Promise<LastPage> {
  const [{ n }] = await sql.unsafe(`select count(*)::int as n from public.${table} where ${column} = $1`, [value]);
  const page = Math.max(1, Math.ceil(n / PER_PAGE));
  if (page === 1) return { page, after: null };
  const [{ p }] = await sql.unsafe(
    `select public.list_position(created_at, id) as p from public.${table} where ${column} = $1
      order by created_at desc, id desc offset $2 limit 1`,
    [value, (page - 1) * PER_PAGE - 1],
  );
  return { page, after: { p_after_created_at: p.created_at, p_after_id: p.id } };
}

export interface HotPath {
  name: string;
  /** Timed calls at most (TIME_BOX_MS caps them); one that uses up what the next finds (a prune) is timed fewer. */
  calls: number;
  call(sql: postgres.Sql): Promise<void>;
  /** Untimed, before each call: what the call needs (deliveries to record). */
  before?(sql: postgres.Sql): Promise<void>;
  /** Untimed, after each call: what the next call needs (the claimed deliveries recorded, so their room frees). */
  after?(sql: postgres.Sql): Promise<void>;
}

export const PER_PAGE = 50;
/** A path stops being timed after this long (at least one call): one that takes seconds a call is told by one. */
const TIME_BOX_MS = 5000;
const CLAIM_LIMIT = 64;
export const PRUNE_BATCH = 1000;
/** Untimed calls before a path's timed ones (see timeCalls). */
export const WARM_UP_CALLS = 5;
/** Timed prune calls; the explained call and the warm-up calls before them prune a batch each too. */
export const PRUNE_CALLS = 5;

const GATEWAY_REQUEST = "select public.gateway_request(p_key_hash => $1, p_permission => $2, p_rpc => $3, " +
  "p_args => $4, p_idempotency => $5) as result";

async function gateway(
  sql: postgres.Sql,
  keyHash: string,
  permission: string,
  rpc: string,
  args: Record<string, unknown>,
  idempotency: Record<string, unknown> | null = null,
  expect = "ok",
): Promise<void> {
  const [{ result }] = await sql.unsafe(GATEWAY_REQUEST, [
    keyHash,
    permission,
    rpc,
    sql.json(args as postgres.JSONValue),
    idempotency && sql.json(idempotency as postgres.JSONValue),
  ] as postgres.ParameterOrJSON<never>[], { prepare: true });
  const outcome = result.auth.outcome === "ok"
    ? (result.replayed ? "replayed" : result.result?.outcome ?? "ok")
    : result.auth.outcome;
  if (outcome !== expect) throw new Error(`${rpc}: expected ${expect}, got ${JSON.stringify(result).slice(0, 300)}`);
}

export function hotPaths(s: Subject): HotPath[] {
  // Deliveries claimed and not yet recorded. A claim leases at most 4 per endpoint and 16 per workspace including
  // those already leased, so each claim's deliveries are recorded before the next claim.
  const claimed: { delivery_id: string; attempt: number }[] = [];
  const claim = async (sql: postgres.Sql) => {
    const [{ claim }] = await sql`
      select public.claim_webhook_deliveries(p_limit => ${CLAIM_LIMIT}, p_lease_seconds => 30) as claim`;
    if (claim.deliveries.length === 0) throw new Error("the claim found nothing due: the backlog ran out");
    claimed.push(...claim.deliveries);
  };
  const record = async (sql: postgres.Sql) => {
    const delivery = claimed.shift()!;
    const [{ recorded }] = await sql`
      select public.record_webhook_attempt(p_delivery_id => ${delivery.delivery_id}, p_attempt => ${delivery.attempt},
        p_status_code => 200, p_error => null, p_response_body => null, p_duration_ms => 12,
        p_retry_in_ms => null) as recorded`;
    if (recorded.outcome !== "success") throw new Error(`record: ${JSON.stringify(recorded)}`);
  };
  const NO_POSITION = { p_after_created_at: null, p_after_id: null };
  const page = (p: number) => ({ p_status: null, p_page: p, p_per_page: PER_PAGE, ...NO_POSITION });
  const webhookPage = (p: number) => ({ p_id: s.endpointId, ...page(p) });
  // `cursor=` (empty): the first page by cursor, with no total.
  const firstByCursor = { p_status: null, p_page: null, p_per_page: PER_PAGE, ...NO_POSITION };
  const after = (last: LastPage) => ({
    p_status: null,
    p_page: null,
    p_per_page: PER_PAGE,
    ...(last.after ?? NO_POSITION),
  });
  // Each list's last page, found before its first call (untimed) and kept for the phase.
  const last: Partial<Record<keyof Subject["lastPage"], LastPage>> = {};
  const findLast = (list: keyof Subject["lastPage"]) => async () => {
    last[list] ??= await s.lastPage[list]();
  };
  return [
    {
      name: "delete (gateway_request: delete_campaign)",
      calls: 200,
      call: (sql) => gateway(sql, s.keyHash, "campaigns:write", "delete_campaign", { p_id: s.nextDraft() }),
    },
    {
      name: "read (gateway_request: get_campaign)",
      calls: 300,
      call: (sql) => gateway(sql, s.keyHash, "campaigns:read", "get_campaign", { p_id: s.readId }),
    },
    {
      name: "list campaigns, first page",
      calls: 100,
      call: (sql) => gateway(sql, s.keyHash, "campaigns:read", "list_campaigns", page(1)),
    },
    {
      name: "list campaigns, first page by cursor",
      calls: 100,
      call: (sql) => gateway(sql, s.keyHash, "campaigns:read", "list_campaigns", firstByCursor),
    },
    {
      name: "list campaigns, last page by offset",
      calls: 100,
      before: findLast("campaigns"),
      call: (sql) => gateway(sql, s.keyHash, "campaigns:read", "list_campaigns", page(last.campaigns!.page)),
    },
    {
      name: "list campaigns, last page by cursor",
      calls: 100,
      before: findLast("campaigns"),
      call: (sql) => gateway(sql, s.keyHash, "campaigns:read", "list_campaigns", after(last.campaigns!)),
    },
    {
      name: "replay (gateway_request: create_campaign, stored)",
      calls: 300,
      call: (sql) =>
        gateway(
          sql,
          s.keyHash,
          "campaigns:write",
          "create_campaign",
          { p_fields: s.replay.fields },
          s.replay.idempotency,
          "replayed",
        ),
    },
    {
      name: "429 (gateway_request, quota used up)",
      calls: 300,
      call: (sql) =>
        gateway(sql, s.limitedKeyHash, "campaigns:write", "delete_campaign", { p_id: s.readId }, null, "rate_limited"),
    },
    {
      name: "deliveries view, first page",
      calls: 100,
      call: (sql) => gateway(sql, s.keyHash, "webhooks:read", "list_webhook_deliveries", webhookPage(1)),
    },
    {
      name: "deliveries view, first page by cursor",
      calls: 100,
      call: (sql) =>
        gateway(sql, s.keyHash, "webhooks:read", "list_webhook_deliveries", { p_id: s.endpointId, ...firstByCursor }),
    },
    {
      name: "deliveries view, last page by offset",
      calls: 100,
      before: findLast("deliveries"),
      call: (sql) =>
        gateway(sql, s.keyHash, "webhooks:read", "list_webhook_deliveries", webhookPage(last.deliveries!.page)),
    },
    {
      name: "deliveries view, last page by cursor",
      calls: 100,
      before: findLast("deliveries"),
      call: (sql) =>
        gateway(sql, s.keyHash, "webhooks:read", "list_webhook_deliveries", {
          p_id: s.endpointId,
          ...after(last.deliveries!),
        }),
    },
    {
      name: "logs view, first page",
      calls: 100,
      call: (sql) => gateway(sql, s.keyHash, "webhooks:read", "list_webhook_logs", webhookPage(1)),
    },
    {
      name: "logs view, first page by cursor",
      calls: 100,
      call: (sql) =>
        gateway(sql, s.keyHash, "webhooks:read", "list_webhook_logs", { p_id: s.endpointId, ...firstByCursor }),
    },
    {
      name: "logs view, last page by offset",
      calls: 100,
      before: findLast("logs"),
      call: (sql) => gateway(sql, s.keyHash, "webhooks:read", "list_webhook_logs", webhookPage(last.logs!.page)),
    },
    {
      name: "logs view, last page by cursor",
      calls: 100,
      before: findLast("logs"),
      call: (sql) =>
        gateway(sql, s.keyHash, "webhooks:read", "list_webhook_logs", { p_id: s.endpointId, ...after(last.logs!) }),
    },
    {
      name: `dispatcher claim (claim_webhook_deliveries, ${CLAIM_LIMIT})`,
      calls: 20,
      call: claim,
      after: async (sql) => {
        while (claimed.length) await record(sql);
      },
    },
    {
      name: "dispatcher record (record_webhook_attempt, success)",
      calls: 300,
      call: record,
      before: async (sql) => {
        if (!claimed.length) await claim(sql);
      },
    },
    {
      name: `retention: prune_webhook_history (${PRUNE_BATCH} a batch)`,
      calls: PRUNE_CALLS,
      call: async (sql) => {
        await sql`select public.prune_webhook_history(${RETENTION_DAYS}, ${PRUNE_BATCH}, 1)`;
      },
    },
    {
      name: `retention: prune_idempotency_keys (${PRUNE_BATCH} a batch)`,
      calls: PRUNE_CALLS,
      call: async (sql) => {
        await sql`select public.prune_idempotency_keys(${PRUNE_BATCH}, 1)`;
      },
    },
  ];
}

/** A path's timed calls: their latencies, and the median CPU time its Postgres backend spent on one. */
export interface PathTiming {
  latency: LatencySummary;
  /** Milliseconds of CPU a call, median (the backend's /proc/<pid>/schedstat); null where it cannot be read. */
  cpu: number | null;
}

/** CPU time the process `pid` has run so far, in milliseconds (Linux: the first field of its schedstat, in ns). */
export function cpuMillis(pid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return null;
  }
}

/**
 * Up to `path.calls` timed calls on `sql`, after WARM_UP_CALLS untimed ones: PL/pgSQL plans a function's
 * statements afresh for its first calls on a connection, which a phase that came first would otherwise pay.
 * `backendPid` is the process serving `sql` (its one connection): the CPU time it spends on each call hardly
 * moves with the machine's other load, unlike the wall-clock latency, which on a shared machine includes waiting
 * for a core.
 */
export async function timeCalls(sql: postgres.Sql, path: HotPath, backendPid: number): Promise<PathTiming> {
  const warmUntil = performance.now() + TIME_BOX_MS;
  for (let i = 0; i < WARM_UP_CALLS && performance.now() < warmUntil; i++) {
    await path.before?.(sql);
    await path.call(sql);
    await path.after?.(sql);
  }
  const samples: number[] = [];
  const cpu: number[] = [];
  const started = performance.now();
  for (let i = 0; i < path.calls && performance.now() - started < TIME_BOX_MS; i++) {
    await path.before?.(sql);
    const c0 = cpuMillis(backendPid);
    const t0 = performance.now();
    await path.call(sql);
    samples.push(performance.now() - t0);
    const c1 = cpuMillis(backendPid);
    if (c0 !== null && c1 !== null) cpu.push(c1 - c0);
    await path.after?.(sql);
  }
  return { latency: summarize(samples), cpu: cpu.length ? summarize(cpu).p50 : null };
}

/**
 * One call of `path` on `explain`, a connection of its own with auto_explain loaded (LOG messages reach the
 * client): the plan of every statement it ran, nested ones included, with actual rows, timing and buffers.
 */
export async function explainCall(explain: postgres.Sql, plans: string[], path: HotPath): Promise<string[]> {
  await path.before?.(explain);
  plans.length = 0;
  await path.call(explain);
  const ran = [...plans];
  await path.after?.(explain);
  // The top-level `select public.f(...)` is one Result node; what matters is inside.
  return ran.filter((plan) => !/Query Text: select public\.\w+\(/.test(plan));
}

/** Settings that make auto_explain report every statement of the session, nested ones included, to the client. */
export const AUTO_EXPLAIN = [
  "load 'auto_explain'",
  "set auto_explain.log_min_duration = 0",
  "set auto_explain.log_analyze = on",
  "set auto_explain.log_buffers = on",
  "set auto_explain.log_nested_statements = on",
  "set client_min_messages = log",
];

/** Tables a plan reads in full ("Seq Scan on t"), of those in `large`. */
export function seqScans(plans: string[], large: Set<string>): string[] {
  const found = new Set<string>();
  for (const plan of plans) {
    for (const m of plan.matchAll(/Seq Scan on (\w+)/g)) if (large.has(m[1])) found.add(m[1]);
  }
  return [...found];
}
