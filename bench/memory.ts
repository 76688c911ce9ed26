// `npm run -s bench:memory`: only the load that sets the gateway's peak RSS in `npm run bench` (its HTTP
// scenarios, in the same order and at the same concurrency, without the baselines and the dispatcher), so that
// two checkouts can be compared back to back in well under a minute each. Prints one JSON line on stdout.
import postgres from "postgres";
import {
  createTenant,
  exhaustQuota,
  expectAnswer,
  garbageKey,
  insertDrafts,
  runHttp,
  type ScenarioResult,
  stopCurrentLoad,
} from "./scenarios.ts";
import {
  currentRssMb,
  gcTrace,
  onCleanup,
  runBench,
  sampleMemory,
  say,
  setting,
  startDatabase,
  startFunctions,
  wasInterrupted,
} from "./stack.ts";

const seconds = setting("BENCH_SECONDS", 5);
const saturation = Math.round(setting("BENCH_CONCURRENCY", 16));
/** Repeating the scenarios shows whether memory keeps growing with requests (a leak) or levels off. */
const rounds = Math.round(setting("BENCH_ROUNDS", 1));
const trace = process.env.BENCH_TRACE_GC === "1" ? gcTrace() : undefined;
/** More drafts than the gateway can delete in `seconds` on this kind of machine. */
const DRAFTS_PER_SECOND = 3000;

async function main(): Promise<void> {
  const database = await startDatabase();
  const sql = postgres(database.url, { max: 4, onnotice: () => {} });
  onCleanup({ name: "fixture connection", run: () => sql.end({ timeout: 5 }) });
  const functions = await startFunctions(database.url, trace);
  const memory = sampleMemory(functions.pid);

  const permissions: ("campaigns:read" | "campaigns:write")[] = ["campaigns:read", "campaigns:write"];
  const tenant = await createTenant(sql, { name: "bench", plan: "org", tier: "unmetered", permissions });
  const limited = await createTenant(sql, { name: "bench limited", plan: "starter", tier: "standard", permissions });
  await exhaustQuota(sql, limited.workspaceId);
  const campaigns = `${functions.gatewayUrl}/v1/campaigns`;
  const readUrl = `${campaigns}/${(await insertDrafts(sql, tenant.workspaceId, 1)).next()}`;
  const auth = { Authorization: `Bearer ${tenant.key}` };
  const invalid = { Authorization: `Bearer ${garbageKey()}` };
  const overQuota = { Authorization: `Bearer ${limited.key}` };
  await expectAnswer(readUrl, { headers: auth }, 200);
  await expectAnswer(readUrl, { headers: invalid }, 401, "invalid_key");
  await expectAnswer(readUrl, { headers: overQuota }, 429, "rate_limited");

  const rps: Record<string, number> = {};
  const rssAfterMb: Record<string, number> = {};
  const measure = async (label: string, run: () => Promise<ScenarioResult>) => {
    if (wasInterrupted()) throw new Error("interrupted");
    const result = await run();
    await memory.mark(label);
    rps[label] = result.rps;
    rssAfterMb[label] = await currentRssMb(functions.pid);
    say(`${label}: ${result.rps.toFixed(1)} req/s, RSS now ${rssAfterMb[label]} MB`);
  };
  for (let round = 1; round <= rounds; round++) {
    const prefix = rounds > 1 ? `${round}: ` : "";
    for (const connections of [1, saturation]) {
      const drafts = await insertDrafts(sql, tenant.workspaceId, Math.ceil(seconds * DRAFTS_PER_SECOND));
      await measure(`${prefix}delete c=${connections}`, () =>
        runHttp({
          group: "delete",
          url: campaigns,
          method: "DELETE",
          headers: auth,
          connections,
          seconds,
          expectStatus: 200,
          nextId: drafts.next,
        }));
    }
    for (const connections of [1, saturation]) {
      await measure(
        `${prefix}read c=${connections}`,
        () =>
          runHttp({
            group: "read",
            url: readUrl,
            method: "GET",
            headers: auth,
            connections,
            seconds,
            expectStatus: 200,
          }),
      );
    }
    await measure(`${prefix}401 c=${saturation}`, () =>
      runHttp({
        group: "refuse 401 invalid_key",
        url: readUrl,
        method: "DELETE",
        headers: invalid,
        connections: saturation,
        seconds,
        expectStatus: 401,
      }));
    await measure(`${prefix}429 c=${saturation}`, () =>
      runHttp({
        group: "refuse 429 rate_limited",
        url: readUrl,
        method: "DELETE",
        headers: overQuota,
        connections: saturation,
        seconds,
        expectStatus: 429,
      }));
  }
  const rss = await memory.stop();
  if (!rss) throw new Error("could not read /proc/<pid>/status of the gateway");
  console.log(JSON.stringify({
    startRssMb: rss.startRssMb,
    peakRssMb: rss.peakRssMb,
    peakByPhaseMb: rss.peakByPhaseMb,
    rssAfterMb,
    rps,
    ...(trace ? { v8Heap: trace.summary() } : {}),
  }));
}

await runBench(main, stopCurrentLoad);
