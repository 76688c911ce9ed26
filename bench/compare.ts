// `npx tsx bench/compare.ts <other checkout>`: this checkout's gateway and another's (say, `git archive main` with
// this node_modules linked in), each in a Deno process of its own on one throwaway database migrated with this
// checkout's migrations, measured in turn: deletes, reads and 429 refusals through each, then the one SQL call made
// directly, for four rounds, the two gateways in swapped order each round (whichever goes first after the drafts
// are inserted tends to measure slower). Alternating puts both under the same load on a shared machine, which one
// run after the other does not. BENCH_CONCURRENCY (16) and BENCH_SECONDS (4) as in run.ts.
import path from "node:path";
import postgres from "postgres";
import { createPostgresDatabase } from "../functions/_shared/db/postgres-database.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";
import { createTenant, exhaustQuota, gatewayRequest, insertDrafts, runBaseline, runHttp } from "./scenarios.ts";
import { onCleanup, runBench, say, setting, spawnFunctions, startDatabase } from "./stack.ts";

const other = process.argv[2];
if (!other) throw new Error("usage: npx tsx bench/compare.ts <other checkout>");
const concurrency = Math.round(setting("BENCH_CONCURRENCY", 16));
const seconds = setting("BENCH_SECONDS", 4);

/** One checkout's api-gateway under Deno, as `npm start` runs it; its base URL once it answers. */
async function startGateway(checkout: string, databaseUrl: string): Promise<string> {
  const env = { DATABASE_URL: databaseUrl, DISPATCHER_SECRET: "compare".repeat(5) };
  const { baseUrl } = await spawnFunctions("api-gateway", env, undefined, checkout);
  return `${baseUrl}/functions/v1/api-gateway`;
}

async function main(): Promise<void> {
  const database = await startDatabase();
  const sql = postgres(database.url, { max: 3, onnotice: () => {} });
  onCleanup({ name: "fixture connection", run: () => sql.end({ timeout: 5 }) });
  const db = createPostgresDatabase(database.url);
  onCleanup({ name: "baseline pool", run: () => db.close() });
  const gateways = [
    ["this", await startGateway(PROJECT_ROOT, database.url)],
    [path.basename(path.resolve(other)), await startGateway(path.resolve(other), database.url)],
  ] as const;
  const t = await createTenant(sql, {
    name: "compare",
    plan: "org",
    tier: "unmetered",
    permissions: ["campaigns:read", "campaigns:write"],
  });
  const limited = await createTenant(sql, {
    name: "compare limited",
    plan: "starter",
    tier: "standard",
    permissions: ["campaigns:read"],
  });
  const headers = { Authorization: `Bearer ${t.key}` };
  const overQuota = { Authorization: `Bearer ${limited.key}` };
  const readId = (await insertDrafts(sql, t.workspaceId, 1)).next()!;
  for (const [, base] of gateways) {
    await runHttp({
      group: "warm-up",
      url: `${base}/v1/campaigns/${readId}`,
      method: "GET",
      headers,
      connections: concurrency,
      seconds: 2,
      expectStatus: 200,
    });
  }
  for (let round = 1; round <= 4; round++) {
    const line: string[] = [];
    for (const [label, base] of round % 2 ? gateways : [...gateways].reverse()) {
      const drafts = await insertDrafts(sql, t.workspaceId, Math.ceil(seconds * 3000));
      const deleted = await runHttp({
        group: "delete",
        url: `${base}/v1/campaigns`,
        method: "DELETE",
        headers,
        connections: concurrency,
        seconds,
        expectStatus: 200,
        nextId: drafts.next,
      });
      const read = await runHttp({
        group: "read",
        url: `${base}/v1/campaigns/${readId}`,
        method: "GET",
        headers,
        connections: concurrency,
        seconds,
        expectStatus: 200,
      });
      // The quota is a minute's: exhausted again before each run, whenever the last one was.
      await exhaustQuota(sql, limited.workspaceId);
      const refused = await runHttp({
        group: "429",
        url: `${base}/v1/campaigns/${readId}`,
        method: "GET",
        headers: overQuota,
        connections: concurrency,
        seconds,
        expectStatus: 429,
      });
      line.push(
        `${label}: delete ${deleted.rps}/s p50 ${deleted.latencyMs.p50} ms, read ${read.rps}/s p50 ${read.latencyMs.p50} ms, ` +
          `429 ${refused.rps}/s`,
      );
    }
    const drafts = await insertDrafts(sql, t.workspaceId, Math.ceil(seconds * 3000));
    const direct = await runBaseline({
      group: "delete",
      concurrency,
      seconds,
      operation: gatewayRequest(db, t.keyHash, "campaigns:write", "delete_campaign", () => {
        const id = drafts.next();
        return id ? { p_id: id } : undefined;
      }),
    });
    console.log(
      `c=${concurrency} round ${round}: ${line.join(" | ")} | gateway_request directly: delete ${direct.rps}/s`,
    );
  }
  say("done");
}

await runBench(main, () => {});
