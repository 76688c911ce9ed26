// `npm run bench`: gateway vs. direct RPC (delete and read paths), refusal throughput, webhook dispatcher drain
// rate and commit-to-receipt latency, and the gateway's peak RSS, in one run on a throwaway embedded Postgres.
// Prints a table and writes the same figures to bench/results/latest.json (or $BENCH_OUT).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";
import { createPostgresDatabase } from "../functions/_shared/db/postgres-database.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";
import { runDispatcherBench } from "./dispatcher.ts";
import { collectEnvironment } from "./environment.ts";
import { formatReport, header, type Report, ratios, targets } from "./report.ts";
import {
  authenticatedRpc,
  createTenant,
  exhaustQuota,
  expectAnswer,
  garbageKey,
  insertDrafts,
  runBaseline,
  resolveKey,
  runHttp,
  type ScenarioResult,
  stopCurrentLoad,
} from "./scenarios.ts";
import {
  onCleanup,
  runBench,
  sampleMemory,
  say,
  setting,
  startDatabase,
  startFunctions,
  wasInterrupted,
} from "./stack.ts";

const config = {
  seconds: setting("BENCH_SECONDS", 5),
  saturation: Math.round(setting("BENCH_CONCURRENCY", 16)),
  deliveries: Math.round(setting("BENCH_DELIVERIES", 5000)),
  steadyRate: setting("BENCH_STEADY_RATE", 50),
};
const OUT_FILE = process.env.BENCH_OUT ?? path.join(PROJECT_ROOT, "bench", "results", "latest.json");
/** Upper bound on direct deletes per second, for sizing the baseline's pool of drafts. */
const BASELINE_DRAFTS_PER_SECOND = 8000;

function progress(result: ScenarioResult): void {
  const other = Object.entries(result.unexpected).map(([k, v]) => `${k}:${v}`).join(" ");
  say(
    `  ${result.rps.toFixed(1)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms` +
      `${other ? `, other answers ${other}` : ""}${result.note ? ` (${result.note})` : ""}`,
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  const database = await startDatabase();
  const sql = postgres(database.url, { max: 4, onnotice: () => {} });
  onCleanup({ name: "fixture connection", run: () => sql.end({ timeout: 5 }) });
  const functions = await startFunctions(database.url);
  const memory = sampleMemory(functions.pid);
  // The baseline uses the very client the functions use locally (pool of 10, prepared statements).
  const db = createPostgresDatabase(database.url);
  onCleanup({ name: "baseline pool", run: () => db.close() });

  const environment = await collectEnvironment(sql);
  console.log(`\n${header(environment, config)}\n`);

  const tenant = await createTenant(sql, {
    name: "bench", plan: "org", tier: "unmetered", permissions: ["campaigns:read", "campaigns:write"],
  });
  const limited = await createTenant(sql, {
    name: "bench limited", plan: "starter", tier: "standard", permissions: ["campaigns:read", "campaigns:write"],
  });
  await exhaustQuota(sql, limited.workspaceId);
  const readId = (await insertDrafts(sql, tenant.workspaceId, 1)).next()!;
  const campaigns = `${functions.gatewayUrl}/v1/campaigns`;
  const auth = { Authorization: `Bearer ${tenant.key}` };
  const scenarios: ScenarioResult[] = [];
  const sat = config.saturation;
  const seconds = config.seconds;

  // Every scenario first proves it measures the intended answer.
  const readUrl = `${campaigns}/${readId}`;
  await expectAnswer(readUrl, { headers: auth }, 200);
  await expectAnswer(readUrl, { headers: { Authorization: `Bearer ${garbageKey()}` } }, 401, "invalid_key");
  await expectAnswer(readUrl, { headers: { Authorization: `Bearer ${limited.key}` } }, 429, "rate_limited");
  const probe = await insertDrafts(sql, tenant.workspaceId, 1);
  await expectAnswer(`${campaigns}/${probe.next()}`, { method: "DELETE", headers: auth }, 200);

  say("warm-up (not measured): connection pools and JIT on both sides");
  const getArgs = (workspaceId: string) => ({ p_workspace_id: workspaceId, p_id: readId });
  const getCampaign = authenticatedRpc(db, tenant.keyHash, "get_campaign", getArgs);
  await runBaseline({ group: "warm-up", concurrency: sat, seconds: 1, operation: getCampaign });
  const warm = { group: "warm-up", headers: auth, connections: sat, seconds: 1, expectStatus: 200 };
  await runHttp({ ...warm, url: readUrl, method: "GET" });
  const warmDrafts = await insertDrafts(sql, tenant.workspaceId, 2000);
  await runHttp({ ...warm, url: campaigns, method: "DELETE", nextId: warmDrafts.next });

  const measure = async (label: string, run: () => Promise<ScenarioResult>) => {
    if (wasInterrupted()) throw new Error("interrupted");
    say(`> ${label} (${seconds} s)`);
    const result = await run();
    progress(result);
    scenarios.push(result);
    if (result.side === "gateway") await memory.mark(`${result.group} c=${result.concurrency}`);
    return result;
  };

  // 1. Delete path: every delete gets a fresh draft.
  for (const concurrency of [1, sat]) {
    const baseDrafts = await insertDrafts(sql, tenant.workspaceId, Math.ceil(seconds * BASELINE_DRAFTS_PER_SECOND));
    const base = await measure(`delete · baseline (resolve_api_key + delete_campaign) · c=${concurrency}`, () =>
      runBaseline({
        group: "delete", concurrency, seconds,
        operation: authenticatedRpc(db, tenant.keyHash, "delete_campaign", (workspaceId) => {
          const id = baseDrafts.next();
          return id ? { p_workspace_id: workspaceId, p_id: id } : undefined;
        }),
      }));
    // The gateway is not faster than the bare RPCs; a quarter more plus slack covers noise.
    const gwDrafts = await insertDrafts(sql, tenant.workspaceId, Math.ceil(base.rps * seconds * 1.25) + 1000);
    await measure(`delete · gateway DELETE /v1/campaigns/{id} · c=${concurrency}`, () =>
      runHttp({
        group: "delete", url: campaigns, method: "DELETE", headers: auth, connections: concurrency, seconds,
        expectStatus: 200, nextId: gwDrafts.next,
      }));
  }

  // 2. Read path: the same campaign over and over.
  for (const concurrency of [1, sat]) {
    await measure(`read · baseline (resolve_api_key + get_campaign) · c=${concurrency}`, () =>
      runBaseline({ group: "read", concurrency, seconds, operation: getCampaign }));
    await measure(`read · gateway GET /v1/campaigns/{id} · c=${concurrency}`, () =>
      runHttp({
        group: "read", url: readUrl, method: "GET", headers: auth, connections: concurrency, seconds,
        expectStatus: 200,
      }));
  }

  // 3. Refusals: a key that fails the checksum (no DB call), and a key whose daily quota is used up.
  await measure(`refuse 401 invalid_key · gateway · c=${sat}`, () =>
    runHttp({
      group: "refuse 401 invalid_key", url: readUrl, method: "DELETE",
      headers: { Authorization: `Bearer ${garbageKey()}` }, connections: sat, seconds, expectStatus: 401,
    }));
  await measure(`refuse 429 rate_limited · baseline (resolve_api_key) · c=${sat}`, () =>
    runBaseline({
      group: "refuse 429 rate_limited", concurrency: sat, seconds, operation: resolveKey(db, limited.keyHash),
      expect: "rate_limited",
    }));
  await measure(`refuse 429 rate_limited · gateway · c=${sat}`, () =>
    runHttp({
      group: "refuse 429 rate_limited", url: readUrl, method: "DELETE",
      headers: { Authorization: `Bearer ${limited.key}` }, connections: sat, seconds, expectStatus: 429,
    }));

  // 4. Webhook dispatcher (served by a Deno process of its own), then 1, 2 and 4 dispatcher processes at once.
  const dispatcher = await runDispatcherBench({
    sql, databaseUrl: database.url, functions, deliveries: config.deliveries, steadyRate: config.steadyRate, seconds,
  });

  // 5. Memory of the Deno process over the whole run.
  if (!("skipped" in dispatcher)) await memory.mark("dispatcher drain + steady");
  const rss = await memory.stop();

  const computedRatios = ratios(scenarios);
  const report: Report = {
    generatedAt: new Date().toISOString(),
    environment,
    config,
    scenarios,
    ratios: computedRatios,
    dispatcher,
    memory: rss,
    targets: targets({ scenarios, ratios: computedRatios, saturation: sat, dispatcher, memory: rss }),
  };
  console.log(`\n${formatReport(report)}\n`);
  await mkdir(path.dirname(OUT_FILE), { recursive: true });
  await writeFile(OUT_FILE, `${JSON.stringify(report, null, 2)}\n`);
  say(`wrote ${path.relative(process.cwd(), OUT_FILE)}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await runBench(main, stopCurrentLoad);
