// `npm run -s bench:scale`: the hot paths' SQL on a small database, then on the same database filled in SQL to a
// production's size (bench/scale-fill.ts; BENCH_SCALE scales it, 1 = 10 k workspaces, 1 M campaigns, 500 k
// events, 1 M deliveries of which 100 k pending, 5 M attempts, 1 M live idempotency keys), first for the same
// workspace as before (what the rest of the data costs it) and then once that workspace has grown to the largest
// tenant's size (what its own data costs it: offset paging, counts). Each path's p50 against the small
// database's, flat when within 1.5x; then every nested statement's EXPLAIN (ANALYZE, BUFFERS) at the largest
// phase, and which paths read a large table in full. Nothing is asserted. A throwaway cluster, as `npm run bench`.
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { hashApiKey } from "../functions/_shared/auth/api-key.ts";
import type { Permission } from "../functions/_shared/auth/permissions.ts";
import { createTenant, exhaustQuota, insertDrafts } from "./scenarios.ts";
import { countsAt, fill, growWorkspace, LARGEST, prepareWork } from "./scale-fill.ts";
import {
  AUTO_EXPLAIN,
  explainCall,
  hotPaths,
  lastPageOf,
  type PathTiming,
  PRUNE_BATCH,
  PRUNE_CALLS,
  seqScans,
  type Subject,
  timeCalls,
  WARM_UP_CALLS,
} from "./scale-paths.ts";
import { onCleanup, runBench, say, setting, startDatabase } from "./stack.ts";

const SCALE = setting("BENCH_SCALE", 1);
/** The small database: a few dozen workspaces of the same shape. */
const SMALL_SCALE = 0.002;
const FLAT = 1.5;
/** A table with more rows than this should not be read in full by a hot statement. */
const LARGE_TABLE_ROWS = 10_000;
/** BENCH_PATHS=claim,prune_webhook: only the paths whose names contain one of these (all when unset). */
const ONLY = process.env.BENCH_PATHS?.split(",").map((s) => s.trim()).filter(Boolean) ?? [];

interface Phase {
  name: string;
  timings: Map<string, PathTiming>;
  seqScans: Map<string, string[]>;
  plans: Map<string, string[]>;
}

async function main(): Promise<void> {
  const started = performance.now();
  const database = await startDatabase();
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  onCleanup({ name: "fixture connection", run: () => sql.end({ timeout: 5 }) });
  // One connection for the timed calls (the functions' prepared statements), one for auto_explain. The timed one
  // commits without waiting for the WAL flush: that wait is the disk's and the other engineers' I/O on it, the
  // same at any size, and on a shared machine it swamped what the statements themselves cost.
  const timed = postgres(database.url, {
    max: 1,
    onnotice: () => {},
    connection: { synchronous_commit: "off" },
  });
  onCleanup({ name: "timed connection", run: () => timed.end({ timeout: 5 }) });
  const [{ pid: timedPid }] = await timed<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const plans: string[] = [];
  const explain = postgres(database.url, { max: 1, onnotice: (n) => plans.push(String(n.message)) });
  onCleanup({ name: "explain connection", run: () => explain.end({ timeout: 5 }) });
  await sql`alter system set max_wal_size = '8GB'`;
  await sql`alter system set checkpoint_timeout = '30min'`;
  await sql`select pg_reload_conf()`;
  for (const setting of AUTO_EXPLAIN) await explain.unsafe(setting);

  const permissions: Permission[] = ["campaigns:read", "campaigns:write", "webhooks:read"];
  const tenant = await createTenant(sql, { name: "scale measured", plan: "org", tier: "unmetered", permissions });
  const limited = await createTenant(sql, { name: "scale limited", plan: "starter", tier: "standard", permissions });
  const [{ id: endpointId }] = await sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${tenant.workspaceId}, 'https://hooks.example.com/measured', array['campaign.created'], 'whsec_measured')
    returning id`;
  // Retention's work goes to a workspace of its own, so the measured endpoint's lists hold only their own.
  const [{ id: prunedEndpointId }] = await sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${limited.workspaceId}, 'https://hooks.example.com/pruned', array['campaign.created'], 'whsec_pruned')
    returning id`;
  const smallCounts = countsAt(SMALL_SCALE);
  say(`small database: ${JSON.stringify(smallCounts)}`);
  await fill(sql, "small ", smallCounts);
  // The measured workspace holds what a typical one holds.
  await growWorkspace(sql, tenant.workspaceId, endpointId, {
    campaigns: smallCounts.campaignsPerWorkspace,
    events: smallCounts.eventsPerWorkspace,
  });
  const replayFields = { name: "scale replayed" };
  const replay = {
    fields: replayFields,
    idempotency: {
      key_hash: hashApiKey("scale replay key"),
      fingerprint: hashApiKey("scale replay request"),
      sealed: null,
    },
  };
  const [{ result: created }] = await sql`
    select public.gateway_request(${tenant.keyHash}, 'campaigns:write', 'create_campaign',
      ${sql.json({ p_fields: replayFields })}, ${sql.json(replay.idempotency)}) as result`;
  const readId: string = created.result.campaign.id;

  const phases: Phase[] = [];
  const measure = async (name: string) => {
    await exhaustQuota(sql, limited.workspaceId);
    await prepareWork(sql, limited.workspaceId, prunedEndpointId, (PRUNE_CALLS + 1 + WARM_UP_CALLS) * PRUNE_BATCH);
    await sql`vacuum analyze`;
    // Writes the fill's and the vacuum's pages now, or the checkpointer would write them while commits are timed.
    await sql`checkpoint`;
    const [{ c, d, l }] = await sql<{ c: number; d: number; l: number }[]>`
      select (select count(*) from public.campaigns where workspace_id = ${tenant.workspaceId})::int as c,
             (select count(*) from public.webhook_deliveries where endpoint_id = ${endpointId})::int as d,
             (select count(*) from public.webhook_attempts where endpoint_id = ${endpointId})::int as l`;
    const large = new Set((await sql<{ relname: string }[]>`
      select relname from pg_class
       where relnamespace = 'public'::regnamespace and relkind = 'r' and reltuples > ${LARGE_TABLE_ROWS}`)
      .map((r) => r.relname));
    const drafts = await insertDrafts(sql, tenant.workspaceId, 400);
    const subject: Subject = {
      keyHash: tenant.keyHash,
      limitedKeyHash: limited.keyHash,
      endpointId,
      readId,
      replay,
      nextDraft: () => {
        const id = drafts.next();
        if (!id) throw new Error("out of drafts");
        return id;
      },
      lastPage: {
        campaigns: () => lastPageOf(sql, "campaigns", "workspace_id", tenant.workspaceId),
        deliveries: () => lastPageOf(sql, "webhook_deliveries", "endpoint_id", endpointId),
        logs: () => lastPageOf(sql, "webhook_attempts", "endpoint_id", endpointId),
      },
    };
    say(`${name}: measured workspace ${c} campaigns, endpoint ${d} deliveries, ${l} attempts`);
    const phase: Phase = { name, timings: new Map(), seqScans: new Map(), plans: new Map() };
    for (const path of hotPaths(subject)) {
      if (ONLY.length && !ONLY.some((part) => path.name.includes(part))) continue;
      const plan = await explainCall(explain, plans, path);
      phase.plans.set(path.name, plan);
      phase.seqScans.set(path.name, seqScans(plan, large));
      const timing = await timeCalls(timed, path, timedPid);
      phase.timings.set(path.name, timing);
      say(
        `  ${path.name}: p50 ${timing.latency.p50} ms, p90 ${timing.latency.p90} ms, CPU ${timing.cpu?.toFixed(3)} ms`,
      );
    }
    phases.push(phase);
  };

  await measure("small");
  const counts = countsAt(SCALE);
  say(`filling to scale ${SCALE}: ${JSON.stringify(counts)}`);
  const fillStarted = performance.now();
  await fill(sql, "scale ", counts);
  say(`filled in ${((performance.now() - fillStarted) / 1000).toFixed(0)} s`);
  await measure("production size");
  await growWorkspace(sql, tenant.workspaceId, endpointId, {
    campaigns: Math.round(LARGEST.campaigns * SCALE),
    events: Math.round(LARGEST.events * SCALE),
  });
  await measure("production size, largest tenant");

  const sizes = await sql<{ relname: string; rows: number; size: string }[]>`
    select c.relname, c.reltuples::bigint as rows, pg_size_pretty(pg_total_relation_size(c.oid)) as size
      from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' order by c.reltuples desc`;
  print(phases, sizes);
  say(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

function print(phases: Phase[], sizes: { relname: string; rows: number; size: string }[]): void {
  const [small, ...rest] = phases;
  const table = (headers: string[], rows: string[][]) => {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
    return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
  };
  const p50 = (p: Phase, path: string) => p.timings.get(path)!.latency.p50;
  const rows = [...small.timings.keys()].map((path) => {
    const base = p50(small, path);
    const ratios = rest.map((p) => p50(p, path) / base);
    const scans = [...new Set(rest.flatMap((p) => p.seqScans.get(path) ?? []))];
    return [
      path,
      `${base.toFixed(3)} ms`,
      ...rest.flatMap((p, i) => [`${p50(p, path).toFixed(3)} ms`, `${ratios[i].toFixed(2)}x`]),
      ratios.every((r) => r <= FLAT) ? "yes" : "NO",
      scans.join(", ") || "-",
    ];
  });
  console.log(
    `\nscale ${SCALE}; tables at the end: ${sizes.map((s) => `${s.relname} ${s.rows} rows ${s.size}`).join(", ")}\n`,
  );
  console.log(table(
    [
      "hot path",
      ...phases.flatMap((p, i) => (i ? [`${p.name} p50`, "x"] : [`${p.name} p50`])),
      "flat",
      "seq scan",
    ],
    rows,
  ));
  console.log(
    `\nflat: p50 within ${FLAT}x of the small database's at both later phases; seq scan: tables of more than ` +
      `${LARGE_TABLE_ROWS} rows a nested statement read in full (auto_explain), at either later phase.`,
  );
  const cpu = (p: Phase, path: string) => p.timings.get(path)!.cpu;
  const cpuRows = [...small.timings.keys()].filter((path) => phases.every((p) => cpu(p, path) !== null)).map((path) => [
    path,
    `${cpu(small, path)!.toFixed(3)} ms`,
    ...rest.flatMap((p) => [`${cpu(p, path)!.toFixed(3)} ms`, `${(cpu(p, path)! / cpu(small, path)!).toFixed(2)}x`]),
  ]);
  if (cpuRows.length) {
    console.log(`\nCPU time of the Postgres backend a call, median (the same calls; hardly moved by other load):\n`);
    console.log(table(["hot path", ...phases.flatMap((p, i) => (i ? [`${p.name}`, "x"] : [p.name]))], cpuRows));
  }
  const last = phases[phases.length - 1];
  for (const [path, plans] of last.plans) {
    console.log(`\n==== ${path}: EXPLAIN (ANALYZE, BUFFERS) of each statement it ran (${last.name})`);
    for (const plan of plans) console.log(`\n${plan}`);
  }
}

await runBench(main, () => {});
