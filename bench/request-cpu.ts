// `npm run -s bench:request-cpu`: what the gateway's own code costs per request, as CPU time of its process, held
// against the hand-written peer (bench/peer/peer.ts) serving the same requests from the same database. CPU time
// per request is what throughput on a shared machine is made of, but unlike requests per second it hardly moves
// with what else runs on the machine, so it can tell apart changes of a few microseconds. For each scenario, each
// side serves BENCH_REQUESTS (20,000) requests at c=16, in three rounds alternating gateway and peer; the median
// round is printed. With BENCH_PROFILE=<dir>, the gateway runs under the V8 inspector and one CPU profile per
// scenario is written there (open it in Chrome DevTools), with its heaviest functions printed. BENCH_SCENARIOS=401,read
// runs those alone. BENCH_BASELINE=<checkout> serves the same requests with that checkout's gateway too (node_modules
// linked), for a change's before and after measured side by side.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import autocannon, { type RequestSpec } from "autocannon";
import postgres from "postgres";
import { GATEWAY_PATH } from "./peers.ts";
import { createTenant, exhaustQuota, expectAnswer, garbageKey, insertDrafts } from "./scenarios.ts";
import { type CpuProfile, heaviestFunctions, startProfiling } from "./cpu-profile.ts";
import { runBench, say, setting, spawnDenoServer, spawnFunctions, startDatabase } from "./stack.ts";

const REQUESTS = Math.round(setting("BENCH_REQUESTS", 20_000));
const CONNECTIONS = 16;
const ROUNDS = 3;
const PROFILE_DIR = process.env.BENCH_PROFILE;
/** BENCH_SCENARIOS=401,read runs those alone. */
const ONLY = process.env.BENCH_SCENARIOS?.split(",");
const BASELINE = process.env.BENCH_BASELINE;
/** Linux reports a process's CPU time in clock ticks of 10 ms; 20,000 requests make that 0.5 µs a request. */
const TICK_US = 10_000;

/** User plus system CPU time of process `pid` so far, in microseconds. */
async function cpuTimeUs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces, hence the last parenthesis): utime is the 12th, stime
  // the 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

interface Scenario {
  name: string;
  method: "GET" | "DELETE" | "POST";
  /** Path below the function's base URL. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  status: number;
  /** Each request to `<path>/<next id>`: a fresh draft per delete. */
  ids?: () => Promise<() => string | undefined>;
}

/** `REQUESTS` requests at c=16; every answer must have the scenario's status. */
async function load(base: string, scenario: Scenario, amount: number): Promise<void> {
  const url = `${base}${scenario.path}`;
  const next = scenario.ids ? await scenario.ids() : undefined;
  const requests: RequestSpec[] | undefined = next
    ? [{ setupRequest: (request) => ({ ...request, path: `${new URL(url).pathname}/${next()}` }) }]
    : undefined;
  let wrong = 0;
  const instance = autocannon({
    url,
    method: scenario.method,
    headers: scenario.headers,
    body: scenario.body,
    connections: CONNECTIONS,
    amount,
    requests,
    timeout: 10,
  });
  instance.on("response", (_client, status) => {
    if (status !== scenario.status) wrong++;
  });
  const result = await instance;
  if (wrong || result.errors || result.timeouts) {
    throw new Error(`${scenario.name}: ${wrong} answers other than ${scenario.status}, ${result.errors} errors`);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const database = await startDatabase();
  const sql = postgres(database.url, { max: 4, onnotice: () => {} });
  const env = { DATABASE_URL: database.url };
  const gateway = await spawnFunctions(
    "api-gateway",
    env,
    undefined,
    undefined,
    PROFILE_DIR ? ["--inspect=127.0.0.1:0"] : [],
  );
  const peer = await spawnDenoServer("bench/peer/peer.ts", env);
  const baseline = BASELINE ? await spawnFunctions("api-gateway", env, undefined, path.resolve(BASELINE)) : undefined;
  const sides = [
    { name: "gateway", base: `${gateway.baseUrl}${GATEWAY_PATH}`, pid: gateway.pid },
    ...(baseline ? [{ name: "baseline", base: `${baseline.baseUrl}${GATEWAY_PATH}`, pid: baseline.pid }] : []),
    { name: "peer", base: `${peer.baseUrl}${GATEWAY_PATH}`, pid: peer.pid },
  ];

  const permissions = ["campaigns:read", "campaigns:write"] as const;
  const tenant = await createTenant(sql, {
    name: "cpu",
    plan: "org",
    tier: "unmetered",
    permissions: [...permissions],
  });
  const limited = await createTenant(sql, {
    name: "cpu limited",
    plan: "starter",
    tier: "standard",
    permissions: [...permissions],
  });
  await exhaustQuota(sql, limited.workspaceId);
  const auth = { Authorization: `Bearer ${tenant.key}` };
  const replay = {
    headers: { ...auth, "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
    body: JSON.stringify({ name: "cpu replayed" }),
  };
  const created = await fetch(`${sides[0].base}/v1/campaigns`, { method: "POST", ...replay });
  if (created.status !== 201) throw new Error(`creating the replayed campaign: ${created.status}`);
  const readPath = `/v1/campaigns/${(await created.json()).data.campaign.id}`;

  const scenarios: Scenario[] = [
    { name: "401", method: "GET", path: readPath, headers: { Authorization: `Bearer ${garbageKey()}` }, status: 401 },
    { name: "read", method: "GET", path: readPath, headers: auth, status: 200 },
    {
      name: "delete",
      method: "DELETE",
      path: "/v1/campaigns",
      headers: auth,
      status: 200,
      ids: async () => (await insertDrafts(sql, tenant.workspaceId, REQUESTS + CONNECTIONS)).next,
    },
    { name: "replay", method: "POST", path: "/v1/campaigns", ...replay, status: 201 },
    { name: "429", method: "GET", path: readPath, headers: { Authorization: `Bearer ${limited.key}` }, status: 429 },
  ];
  for (const side of sides) {
    await expectAnswer(`${side.base}${readPath}`, { headers: auth }, 200);
    // Warm-up: pools filled and the hot functions compiled on both sides.
    for (const scenario of scenarios) await load(side.base, scenario, 2000);
  }

  const rows: string[][] = [];
  for (const scenario of scenarios.filter((s) => !ONLY || ONLY.includes(s.name))) {
    const perRequest: Record<string, number[]> = Object.fromEntries(sides.map((side) => [side.name, []]));
    let profile: CpuProfile | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of sides) {
        const profiling = PROFILE_DIR && side.name === "gateway" && round === 0
          ? await startProfiling(gateway.inspectorUrl!)
          : undefined;
        const before = await cpuTimeUs(side.pid);
        await load(side.base, scenario, REQUESTS);
        perRequest[side.name].push((await cpuTimeUs(side.pid) - before) / REQUESTS);
        if (profiling) profile = await profiling.stop();
      }
    }
    say(
      `${scenario.name}: ${
        sides.map((side) => `${side.name} ${perRequest[side.name].map((v) => v.toFixed(1))}`).join(", ")
      } µs`,
    );
    const [gw, pe] = [median(perRequest.gateway), median(perRequest.peer)];
    const before = baseline ? [median(perRequest.baseline).toFixed(1)] : [];
    rows.push([
      scenario.name,
      gw.toFixed(1),
      ...before,
      pe.toFixed(1),
      `+${(gw - pe).toFixed(1)}`,
      `${(gw / pe).toFixed(2)}x`,
    ]);
    if (profile && PROFILE_DIR) {
      const file = path.join(PROFILE_DIR, `gateway-${scenario.name}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      console.log(`\n${scenario.name}: heaviest functions of the gateway (self time, ${file})`);
      for (const [share, name] of heaviestFunctions(profile, 15)) console.log(`  ${share.padStart(5)}  ${name}`);
    }
  }
  await sql.end({ timeout: 5 });

  const headers = [
    "scenario",
    "gateway µs",
    ...(baseline ? ["baseline µs"] : []),
    "peer µs",
    "added µs",
    "gateway/peer",
  ];
  const widths = headers.map((h) => Math.max(8, h.length));
  const line = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(
    `\nCPU time per request of each server process (µs, median of ${ROUNDS} rounds of ${REQUESTS} at c=${CONNECTIONS})\n`,
  );
  console.log(line(headers));
  for (const row of rows) console.log(line(row));
}

await runBench(main, () => {});
