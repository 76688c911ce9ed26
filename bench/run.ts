// `npm run bench`: gateway vs. its one SQL call made directly, vs. the two calls it made before and vs. a
// hand-written peer over HTTP (delete, read, idempotent replay, 429, 401), refusal throughput, database round trips per request, webhook dispatcher drain rate and
// commit-to-receipt latency, and the gateway's peak RSS, in one run on a throwaway embedded Postgres.
// Prints a table and writes the same figures to bench/results/latest.json (or $BENCH_OUT).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";
import { createPostgresDatabase } from "../functions/_shared/db/postgres-database.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";
import { runDispatcherBench } from "./dispatcher.ts";
import { collectEnvironment } from "./environment.ts";
import { expectSameAnswer, startPeers } from "./peers.ts";
import { formatReport, header, ratios, type Report, targets } from "./report.ts";
import { countRoundTrips } from "./round-trips.ts";
import {
  authenticatedRpc,
  createTenant,
  exhaustQuota,
  expectAnswer,
  garbageKey,
  gatewayRequest,
  insertDrafts,
  resolveKey,
  runBaseline,
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
  const peers = await startPeers(database.url);
  // The baseline uses the very client the functions use locally (pool of 10, prepared statements).
  const db = createPostgresDatabase(database.url);
  onCleanup({ name: "baseline pool", run: () => db.close() });

  const environment = await collectEnvironment(sql);
  console.log(`\n${header(environment, config)}\n`);

  const tenant = await createTenant(sql, {
    name: "bench",
    plan: "org",
    tier: "unmetered",
    permissions: ["campaigns:read", "campaigns:write"],
  });
  // Metered: every request counts on the workspace's one counter row, the lock a busy workspace queues on.
  const metered = await createTenant(sql, {
    name: "bench metered",
    plan: "org",
    tier: "high",
    permissions: ["campaigns:read", "campaigns:write"],
  });
  const limited = await createTenant(sql, {
    name: "bench limited",
    plan: "starter",
    tier: "standard",
    permissions: ["campaigns:read", "campaigns:write"],
  });
  await exhaustQuota(sql, limited.workspaceId);
  const campaigns = `${functions.gatewayUrl}/v1/campaigns`;
  const peerCampaigns = `${peers.peerUrl}/v1/campaigns`;
  const auth = { Authorization: `Bearer ${tenant.key}` };

  // The resource the read and the replay scenarios share: created by the request every replay repeats.
  const idempotencyKey = crypto.randomUUID();
  const replayBody = JSON.stringify({ name: "bench replayed" });
  const replayHeaders = { ...auth, "Content-Type": "application/json", "Idempotency-Key": idempotencyKey };
  const createdRes = await fetch(campaigns, { method: "POST", headers: replayHeaders, body: replayBody });
  if (createdRes.status !== 201) throw new Error(`creating the replayed campaign: ${createdRes.status}`);
  const readId: string = (await createdRes.json()).data.campaign.id;
  const [claim] = await sql<{ key_hash: string; fingerprint: string }[]>`
    select encode(key_hash, 'hex') as key_hash, encode(fingerprint, 'hex') as fingerprint
      from public.idempotency_keys where workspace_id = ${tenant.workspaceId}`;
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
  const replayed = await fetch(campaigns, { method: "POST", headers: replayHeaders, body: replayBody });
  await replayed.arrayBuffer();
  if (replayed.status !== 201 || replayed.headers.get("idempotent-replayed") !== "true") {
    throw new Error(`the replay scenario does not replay: ${replayed.status}`);
  }

  // The peer must give the gateway's answers, or it would be measuring something else.
  const bases = { gateway: functions.gatewayUrl, peer: peers.peerUrl };
  const asKey = (key: string) => ({ headers: { Authorization: `Bearer ${key}` } });
  await expectSameAnswer("read", bases, (b) => [`${b}/v1/campaigns/${readId}`, asKey(tenant.key)], 200);
  await expectSameAnswer("401", bases, (b) => [`${b}/v1/campaigns/${readId}`, asKey(garbageKey())], 401);
  await expectSameAnswer(
    "429",
    bases,
    (b) => [`${b}/v1/campaigns/${readId}`, { ...asKey(limited.key), method: "DELETE" }],
    429,
  );
  const probes = await insertDrafts(sql, tenant.workspaceId, 2);
  await expectSameAnswer(
    "delete",
    bases,
    (b) => [`${b}/v1/campaigns/${probes.next()}`, { ...asKey(tenant.key), method: "DELETE" }],
    200,
  );
  await expectSameAnswer(
    "replay",
    bases,
    (b) => [`${b}/v1/campaigns`, { method: "POST", headers: replayHeaders, body: replayBody }],
    201,
  );

  say("warm-up (not measured): connection pools and JIT on both sides");
  const getArgs = (workspaceId: string) => ({ p_workspace_id: workspaceId, p_id: readId });
  const getCampaignTwoCalls = authenticatedRpc(db, tenant.keyHash, "get_campaign", getArgs);
  const getCampaign = gatewayRequest(db, tenant.keyHash, "campaigns:read", "get_campaign", () => ({ p_id: readId }));
  await runBaseline({ group: "warm-up", concurrency: sat, seconds: 1, operation: getCampaign });
  await runBaseline({ group: "warm-up", concurrency: sat, seconds: 1, operation: getCampaignTwoCalls });
  const warm = { group: "warm-up", headers: auth, connections: sat, seconds: 1, expectStatus: 200 };
  await runHttp({ ...warm, url: readUrl, method: "GET" });
  const warmDrafts = await insertDrafts(sql, tenant.workspaceId, 2000);
  await runHttp({ ...warm, url: campaigns, method: "DELETE", nextId: warmDrafts.next });
  await runHttp({ ...warm, url: `${peerCampaigns}/${readId}`, method: "GET", side: "peer" });
  const warmPeerDrafts = await insertDrafts(sql, tenant.workspaceId, 2000);
  await runHttp({ ...warm, url: peerCampaigns, method: "DELETE", nextId: warmPeerDrafts.next, side: "peer" });

  const measure = async (label: string, run: () => Promise<ScenarioResult>) => {
    if (wasInterrupted()) throw new Error("interrupted");
    say(`> ${label} (${seconds} s)`);
    const result = await run();
    progress(result);
    scenarios.push(result);
    if (result.side === "gateway") await memory.mark(`${result.group} c=${result.concurrency}`);
    return result;
  };

  // 1. Delete path: every delete gets a fresh draft. The metered workspace's counter is set back to 0 four times a
  // second so that its limits (2,000 a minute) never refuse: the lock it measures is the one every count takes.
  const deletePath = async (group: string, t: typeof tenant, concurrency: number, withPeer: boolean) => {
    const headers = { Authorization: `Bearer ${t.key}` };
    const oneCall = await insertDrafts(sql, t.workspaceId, Math.ceil(seconds * BASELINE_DRAFTS_PER_SECOND));
    const base = await measure(
      `${group} · baseline (gateway_request: delete_campaign) · c=${concurrency}`,
      () =>
        runBaseline({
          group,
          concurrency,
          seconds,
          operation: gatewayRequest(db, t.keyHash, "campaigns:write", "delete_campaign", () => {
            const id = oneCall.next();
            return id ? { p_id: id } : undefined;
          }),
        }),
    );
    const twoCalls = await insertDrafts(sql, t.workspaceId, Math.ceil(seconds * BASELINE_DRAFTS_PER_SECOND));
    await measure(
      `${group} · two-call baseline (resolve_api_key + delete_campaign) · c=${concurrency}`,
      () =>
        runBaseline({
          group,
          concurrency,
          seconds,
          side: "two-call baseline",
          operation: authenticatedRpc(db, t.keyHash, "delete_campaign", (workspaceId) => {
            const id = twoCalls.next();
            return id ? { p_workspace_id: workspaceId, p_id: id } : undefined;
          }),
        }),
    );
    // The gateway is not faster than the bare RPC; a quarter more plus slack covers noise.
    const gwDrafts = await insertDrafts(sql, t.workspaceId, Math.ceil(base.rps * seconds * 1.25) + 1000);
    await measure(`${group} · gateway DELETE /v1/campaigns/{id} · c=${concurrency}`, () =>
      runHttp({
        group,
        url: campaigns,
        method: "DELETE",
        headers,
        connections: concurrency,
        seconds,
        expectStatus: 200,
        nextId: gwDrafts.next,
      }));
    if (!withPeer) return;
    const peerDrafts = await insertDrafts(sql, t.workspaceId, Math.ceil(base.rps * seconds * 1.5) + 1000);
    await measure(`${group} · peer DELETE /v1/campaigns/{id} · c=${concurrency}`, () =>
      runHttp({
        group,
        url: peerCampaigns,
        method: "DELETE",
        headers,
        connections: concurrency,
        seconds,
        expectStatus: 200,
        nextId: peerDrafts.next,
        side: "peer",
      }));
  };
  for (const concurrency of [1, sat]) await deletePath("delete", tenant, concurrency, true);
  const resetCounter = setInterval(() => {
    void sql`update public.rate_limit_counters set day_count = 0, minute_count = 0
              where workspace_id = ${metered.workspaceId}`.catch(() => {});
  }, 250);
  try {
    await deletePath("delete, metered", metered, sat, false);
  } finally {
    clearInterval(resetCounter);
  }

  // 2. Read path: the same campaign over and over.
  for (const concurrency of [1, sat]) {
    await measure(
      `read · baseline (gateway_request: get_campaign) · c=${concurrency}`,
      () => runBaseline({ group: "read", concurrency, seconds, operation: getCampaign }),
    );
    await measure(
      `read · two-call baseline (resolve_api_key + get_campaign) · c=${concurrency}`,
      () =>
        runBaseline({ group: "read", concurrency, seconds, side: "two-call baseline", operation: getCampaignTwoCalls }),
    );
    await measure(`read · gateway GET /v1/campaigns/{id} · c=${concurrency}`, () =>
      runHttp({
        group: "read",
        url: readUrl,
        method: "GET",
        headers: auth,
        connections: concurrency,
        seconds,
        expectStatus: 200,
      }));
    await measure(`read · peer GET /v1/campaigns/{id} · c=${concurrency}`, () =>
      runHttp({
        group: "read",
        url: `${peerCampaigns}/${readId}`,
        method: "GET",
        headers: auth,
        connections: concurrency,
        seconds,
        expectStatus: 200,
        side: "peer",
      }));
  }

  // 2b. Idempotent replay of the create that made the campaign read above: the same key and body, over and over.
  for (const concurrency of [1, sat]) {
    await measure(
      `replay · baseline (gateway_request: create_campaign, replayed) · c=${concurrency}`,
      () =>
        runBaseline({
          group: "replay",
          concurrency,
          seconds,
          expect: "replayed",
          operation: gatewayRequest(
            db,
            tenant.keyHash,
            "campaigns:write",
            "create_campaign",
            () => ({ p_fields: JSON.parse(replayBody) }),
            { ...claim, sealed: null },
          ),
        }),
    );
    for (const [side, url] of [["gateway", campaigns], ["peer", peerCampaigns]] as const) {
      await measure(`replay · ${side} POST /v1/campaigns, same Idempotency-Key · c=${concurrency}`, () =>
        runHttp({
          group: "replay",
          url,
          method: "POST",
          headers: replayHeaders,
          body: replayBody,
          connections: concurrency,
          seconds,
          expectStatus: 201,
          side,
        }));
    }
  }

  // 3. Refusals: a key that fails the checksum (no DB call), and a key whose daily quota is used up.
  const refusers = [
    ["gateway", functions.gatewayUrl],
    ["peer", peers.peerUrl],
    ["bare", peers.bareUrl],
  ] as const;
  for (const concurrency of [1, sat]) {
    for (const [side, base] of refusers) {
      await measure(`refuse 401 invalid_key · ${side} · c=${concurrency}`, () =>
        runHttp({
          group: "refuse 401 invalid_key",
          url: `${base}/v1/campaigns/${readId}`,
          method: "DELETE",
          side,
          headers: { Authorization: `Bearer ${garbageKey()}` },
          connections: concurrency,
          seconds,
          expectStatus: 401,
        }));
    }
  }
  await measure(`refuse 429 rate_limited · baseline (gateway_request) · c=${sat}`, () =>
    runBaseline({
      group: "refuse 429 rate_limited",
      concurrency: sat,
      seconds,
      expect: "rate_limited",
      operation: gatewayRequest(db, limited.keyHash, "campaigns:write", "delete_campaign", () => ({ p_id: readId })),
    }));
  await measure(`refuse 429 rate_limited · two-call baseline (resolve_api_key alone) · c=${sat}`, () =>
    runBaseline({
      group: "refuse 429 rate_limited",
      concurrency: sat,
      seconds,
      side: "two-call baseline",
      operation: resolveKey(db, limited.keyHash),
      expect: "rate_limited",
    }));
  for (const concurrency of [1, sat]) {
    for (const [side, base] of refusers.slice(0, 2)) {
      await measure(`refuse 429 rate_limited · ${side} · c=${concurrency}`, () =>
        runHttp({
          group: "refuse 429 rate_limited",
          url: `${base}/v1/campaigns/${readId}`,
          method: "DELETE",
          side,
          headers: { Authorization: `Bearer ${limited.key}` },
          connections: concurrency,
          seconds,
          expectStatus: 429,
        }));
    }
  }

  // 3b. Database round trips per request, counted at the seam of the gateway's own code in this process.
  say("> round trips per request (counted at the database seam)");
  const countedDrafts = await insertDrafts(sql, tenant.workspaceId, 20);
  const roundTrips = await countRoundTrips(database.url, [
    {
      request: "DELETE /v1/campaigns/{id}",
      method: "DELETE",
      path: () => `/v1/campaigns/${countedDrafts.next()}`,
      headers: auth,
    },
    { request: "GET /v1/campaigns/{id}", method: "GET", path: () => `/v1/campaigns/${readId}`, headers: auth },
    {
      request: "POST /v1/campaigns, replayed",
      method: "POST",
      path: () => "/v1/campaigns",
      headers: replayHeaders,
      body: replayBody,
    },
    {
      request: "POST /v1/campaigns, 400 invalid body",
      method: "POST",
      path: () => "/v1/campaigns",
      headers: { ...auth, "Content-Type": "application/json" },
      body: '{"colour":1}',
    },
    {
      request: "GET, 429 rate_limited",
      method: "GET",
      path: () => `/v1/campaigns/${readId}`,
      headers: { Authorization: `Bearer ${limited.key}` },
    },
    {
      request: "GET, 401 malformed key",
      method: "GET",
      path: () => `/v1/campaigns/${readId}`,
      headers: { Authorization: `Bearer ${garbageKey()}` },
    },
  ]);

  // 4. Webhook dispatcher (served by a Deno process of its own), then 1, 2 and 4 dispatcher processes at once.
  const dispatcher = await runDispatcherBench({
    sql,
    databaseUrl: database.url,
    functions,
    deliveries: config.deliveries,
    steadyRate: config.steadyRate,
    seconds,
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
    roundTrips,
    dispatcher,
    memory: rss,
    targets: targets({ scenarios, ratios: computedRatios, saturation: sat, dispatcher, memory: rss, roundTrips }),
  };
  console.log(`\n${formatReport(report)}\n`);
  await mkdir(path.dirname(OUT_FILE), { recursive: true });
  await writeFile(OUT_FILE, `${JSON.stringify(report, null, 2)}\n`);
  say(`wrote ${path.relative(process.cwd(), OUT_FILE)}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await runBench(main, stopCurrentLoad);
