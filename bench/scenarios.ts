// The measured scenarios: the same RPCs called directly through a pooled Postgres client (baseline) and through
// the gateway over HTTP with autocannon, plus the fixtures they need.
import { performance } from "node:perf_hooks";
import autocannon, { type Instance, type RequestSpec } from "autocannon";
import type postgres from "postgres";
import { hashApiKey } from "../functions/_shared/auth/api-key.ts";
import type { Permission } from "../functions/_shared/auth/permissions.ts";
import type { Database } from "../functions/_shared/db/database.ts";
import type { RpcArgs } from "../functions/_shared/db/rpc-catalogue.ts";
import { createApiKey, createWorkspace, type Plan, type RateLimitTier } from "../scripts/admin/provisioning.ts";
import { type LatencySummary, Samples, summarize } from "./stats.ts";

/**
 * `baseline`: the gateway's one SQL call made directly; `two-call baseline`: the key, then the operation (before);
 * `peer`: the same HTTP request to the hand-written server (bench/peer/peer.ts); `bare`: to a bare `Deno.serve`
 * that answers the 401 (bench/peer/bare-401.ts).
 */
export type Side = "baseline" | "two-call baseline" | "gateway" | "peer" | "bare";

export interface ScenarioResult {
  group: string;
  side: Side;
  concurrency: number;
  /** What counts as success: an HTTP status for the gateway, an RPC outcome for the baseline. */
  expected: string;
  ok: number;
  /** Anything else, by status / outcome / error code. */
  unexpected: Record<string, number>;
  seconds: number;
  rps: number;
  latencyMs: LatencySummary;
  note?: string;
}

function result(
  base: Omit<ScenarioResult, "rps" | "latencyMs" | "ok">,
  samples: Samples,
): ScenarioResult {
  return {
    ...base,
    seconds: Math.round(base.seconds * 1000) / 1000,
    ok: samples.length,
    rps: Math.round((samples.length / base.seconds) * 10) / 10,
    latencyMs: summarize(samples.values()),
  };
}

// ---- fixtures ------------------------------------------------------------------------------------------------

export interface Tenant {
  workspaceId: string;
  key: string;
  keyHash: string;
}

export async function createTenant(
  sql: postgres.Sql,
  options: { name: string; plan: Plan; tier: RateLimitTier; permissions: Permission[] },
): Promise<Tenant> {
  const workspace = await createWorkspace(sql, { name: options.name, plan: options.plan });
  const created = await createApiKey(sql, {
    workspaceId: workspace.id,
    name: options.name,
    permissions: options.permissions,
    tier: options.tier,
  });
  return { workspaceId: workspace.id, key: created.key, keyHash: hashApiKey(created.key) };
}

/** `count` fresh drafts in one statement; returns a cursor that hands each id out once. */
export async function insertDrafts(sql: postgres.Sql, workspaceId: string, count: number) {
  const rows = await sql<{ id: string }[]>`
    insert into public.campaigns (workspace_id, name)
    select ${workspaceId}, 'bench draft ' || g from generate_series(1, ${count}::int) as g
    returning id`;
  let next = 0;
  return {
    size: rows.length,
    next: (): string | undefined => rows[next++]?.id,
    used: () => Math.min(next, rows.length),
  };
}

/** A key that has the right shape but fails the checksum: refused before any database call. */
export function garbageKey(): string {
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let body = "";
  for (let i = 0; i < 36; i++) body += alphabet[Math.floor(Math.random() * alphabet.length)];
  return `wbk_${body.slice(0, 30)}zzzzzz`;
}

/** Uses up today's quota of a (starter, standard) workspace so that every further request is answered 429. */
export async function exhaustQuota(sql: postgres.Sql, workspaceId: string): Promise<void> {
  await sql`
    insert into public.rate_limit_counters (workspace_id, day_start, day_count, minute_start, minute_count)
    select ${workspaceId}, (now() at time zone 'UTC')::date, l.per_day, date_trunc('minute', now()), l.per_minute
      from public.workspaces w, public.plan_limits(w.plan, 'standard') l
     where w.id = ${workspaceId}
    on conflict (workspace_id) do update set
      day_start = excluded.day_start, day_count = excluded.day_count,
      minute_start = excluded.minute_start, minute_count = excluded.minute_count`;
}

// ---- baseline: the RPCs straight through the driver ----------------------------------------------------------

export const EXHAUSTED = Symbol("exhausted");
/** One operation: "ok", another outcome (counted as unexpected), or EXHAUSTED when it ran out of inputs. */
export type Operation = () => Promise<string | typeof EXHAUSTED>;

export interface LoadControl {
  stop(): void;
}
let current: LoadControl | undefined;
/** Stops whatever load is running (Ctrl-C). */
export function stopCurrentLoad(): void {
  current?.stop();
}

/** `concurrency` workers calling `operation` back to back for `seconds`. */
export async function runBaseline(options: {
  group: string;
  concurrency: number;
  seconds: number;
  operation: Operation;
  /** The outcome that counts as success; default "ok". */
  expect?: string;
  side?: Extract<Side, "baseline" | "two-call baseline">;
}): Promise<ScenarioResult> {
  const expect = options.expect ?? "ok";
  const samples = new Samples();
  const unexpected: Record<string, number> = {};
  let stop = false;
  let exhaustedAt: number | undefined;
  current = { stop: () => (stop = true) };
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    while (!stop && performance.now() < deadline) {
      const t0 = performance.now();
      let outcome: string | typeof EXHAUSTED;
      try {
        outcome = await options.operation();
      } catch (error) {
        outcome = `error:${(error as { code?: string }).code ?? (error as Error).message}`;
      }
      if (outcome === EXHAUSTED) {
        exhaustedAt ??= performance.now();
        stop = true;
      } else if (outcome === expect) {
        samples.push(performance.now() - t0);
      } else {
        unexpected[outcome] = (unexpected[outcome] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  current = undefined;
  const seconds = ((exhaustedAt ?? performance.now()) - started) / 1000;
  return result({
    group: options.group,
    side: options.side ?? "baseline",
    concurrency: options.concurrency,
    expected: expect,
    unexpected,
    seconds,
    note: exhaustedAt ? `inputs ran out after ${seconds.toFixed(1)} s` : undefined,
  }, samples);
}

/** resolve_api_key alone: all the database work of a refused (429) request before gateway_request. */
export function resolveKey(db: Database, keyHash: string): Operation {
  return async () => (await db.rpc("resolve_api_key", { p_key_hash: keyHash })).outcome;
}

/**
 * gateway_request, the one call the gateway makes per authenticated request, made directly: the operation's
 * outcome ("replayed" for a stored one), or the refusal. `args` undefined: the inputs ran out.
 */
export function gatewayRequest<N extends "get_campaign" | "delete_campaign" | "create_campaign">(
  db: Database,
  keyHash: string,
  permission: Permission,
  name: N,
  args: () => Omit<RpcArgs<N>, "p_workspace_id"> | undefined,
  idempotency: RpcArgs<"gateway_request">["p_idempotency"] = null,
): Operation {
  return async () => {
    const rpcArgs = args();
    if (!rpcArgs) return EXHAUSTED;
    const answer = await db.rpc("gateway_request", {
      p_key_hash: keyHash,
      p_permission: permission,
      p_rpc: name,
      p_args: rpcArgs,
      p_idempotency: idempotency,
    });
    if (answer.auth.outcome !== "ok") return answer.auth.outcome;
    if (!answer.permitted) return "insufficient_permissions";
    return answer.replayed ? "replayed" : (answer.result as { outcome: string }).outcome;
  };
}

/** resolve_api_key, then the operation's RPC with the workspace it returned: what the gateway did before gateway_request. */
export function authenticatedRpc<N extends "get_campaign" | "delete_campaign">(
  db: Database,
  keyHash: string,
  name: N,
  args: (workspaceId: string) => RpcArgs<N> | undefined,
): Operation {
  return async () => {
    const resolution = await db.rpc("resolve_api_key", {
      p_key_hash: keyHash,
    });
    if (resolution.outcome !== "ok") return resolution.outcome;
    const rpcArgs = args(resolution.workspace_id);
    if (!rpcArgs) return EXHAUSTED;
    return (await db.rpc(name, rpcArgs)).outcome;
  };
}

// ---- gateway: HTTP with autocannon ---------------------------------------------------------------------------

const SENTINEL_ID = "00000000-0000-4000-8000-000000000000";

/**
 * autocannon against one URL for `seconds`. With `nextId`, every request goes to `<url>/<next id>` (one fresh
 * draft each); when the ids run out the run stops and only the time before that counts. Latencies are taken from
 * autocannon's per-response timings (sub-millisecond), for responses with the expected status only.
 */
export async function runHttp(options: {
  group: string;
  url: string;
  method: "GET" | "DELETE" | "POST";
  headers: Record<string, string>;
  body?: string;
  connections: number;
  seconds: number;
  expectStatus: number;
  nextId?: () => string | undefined;
  /** Who answers at `url`: the gateway unless said otherwise. */
  side?: Extract<Side, "gateway" | "peer" | "bare">;
}): Promise<ScenarioResult> {
  const samples = new Samples();
  const unexpected: Record<string, number> = {};
  let exhaustedAt: number | undefined;
  const basePath = new URL(options.url).pathname;
  const requests: RequestSpec[] | undefined = options.nextId
    ? [{
      setupRequest: (request) => {
        const id = options.nextId!();
        if (id === undefined) {
          exhaustedAt ??= performance.now();
          instance?.stop();
        }
        return { ...request, path: `${basePath}/${id ?? SENTINEL_ID}` };
      },
    }]
    : undefined;
  const started = performance.now();
  const instance: Instance = autocannon({
    url: options.url,
    method: options.method,
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: options.seconds,
    requests,
    timeout: 10,
  });
  if (exhaustedAt !== undefined) instance.stop();
  current = { stop: () => instance?.stop() };
  instance.on("response", (_client, status, _bytes, ms) => {
    if (exhaustedAt !== undefined) return;
    if (status === options.expectStatus) samples.push(ms);
    else unexpected[String(status)] = (unexpected[String(status)] ?? 0) + 1;
  });
  instance.on("reqError", (error) => {
    const code = `error:${(error as { code?: string }).code ?? error.message}`;
    unexpected[code] = (unexpected[code] ?? 0) + 1;
  });
  const ended = await instance;
  current = undefined;
  if (ended.timeouts) unexpected.timeout = ended.timeouts;
  const seconds = ((exhaustedAt ?? performance.now()) - started) / 1000;
  return result({
    group: options.group,
    side: options.side ?? "gateway",
    concurrency: options.connections,
    expected: String(options.expectStatus),
    unexpected,
    seconds,
    note: exhaustedAt ? `drafts ran out after ${seconds.toFixed(1)} s` : undefined,
  }, samples);
}

/** One request up front, so a scenario that would measure the wrong answer fails loudly instead. */
export async function expectAnswer(
  url: string,
  init: RequestInit,
  status: number,
  errorCode?: string,
): Promise<void> {
  const res = await fetch(url, init);
  const text = await res.text();
  let code: unknown;
  try {
    code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
  } catch {
    // not JSON
  }
  if (res.status !== status || (errorCode !== undefined && code !== errorCode)) {
    throw new Error(
      `${init.method ?? "GET"} ${url}: expected ${status}${errorCode ? ` ${errorCode}` : ""}, got ${res.status} ${
        text.slice(0, 300)
      }`,
    );
  }
}
