// Deno program run by `npm run -s bench:dispatcher-cpu`: the CPU time of delivery attempts alone (attemptDelivery:
// URL check, signing, connecting, sending, reading the answer; not the claim and record around it), measured with
// process.cpuUsage() of this Deno process around each case, against receivers the bench runs in its own process.
// BENCH_ATTEMPT_CASES (JSON) lists the cases; one JSON line per case goes to stdout.
import process from "node:process";
import { denoConnector } from "../functions/_shared/runtime/deno-connect.ts";
import { ConnectionPool } from "../functions/_shared/webhooks/connection-pool.ts";
import { attemptDelivery, type AttemptResult } from "../functions/_shared/webhooks/deliver.ts";
import type { ClaimedDelivery } from "../functions/_shared/webhooks/delivery-request.ts";
import { drainSettingsFromEnv } from "../functions/webhook-dispatcher/services.ts";

interface AttemptCase {
  name: string;
  url: string;
  attempts: number;
  /** All attempts at once (receivers that hold an attempt until its deadline), or one after another. */
  parallel: boolean;
  /** Share one drain's connection pool across the case's attempts. */
  reuse: boolean;
  /** Trust the test CA (tests/support/tls/ca.pem) that issued the TLS receivers' certificate. */
  trustTestCa: boolean;
}

const cases = JSON.parse(Deno.env.get("BENCH_ATTEMPT_CASES")!) as AttemptCase[];
const testCa = Deno.readTextFileSync(Deno.env.get("BENCH_TEST_CA")!);
const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const resolveHost = () => Promise.resolve(["127.0.0.1"]);

const delivery = (url: string, i: number): ClaimedDelivery => ({
  delivery_id: crypto.randomUUID(),
  attempt: 1,
  spent: 0,
  window_left_ms: null,
  endpoint_id: crypto.randomUUID(),
  workspace_id: crypto.randomUUID(),
  event: "campaign.created",
  occurred_at: new Date().toISOString(),
  data: { campaign: { id: crypto.randomUUID(), name: `bench campaign ${i}`, status: "draft" } },
  url,
  secrets: [secret],
});

for (const c of cases) {
  // The deployed settings (the 10 s attempt timeout included), with this case's connector.
  const connect = denoConnector(c.trustTestCa ? { caCerts: [testCa] } : {});
  const settings = drainSettingsFromEnv({ WEBHOOK_ALLOW_PRIVATE_URLS: "1" }, { resolveHost, connect });
  const pool = c.reuse ? new ConnectionPool() : undefined;
  const attempt = (i: number) => attemptDelivery(delivery(c.url, i), settings, pool);
  // A sequential case starts with one unmeasured attempt: it compiles the paths and, with reuse, opens the
  // connection the measured attempts share. Hostile cases are measured cold, which errs high.
  if (!c.parallel) await attempt(0);
  const before = process.cpuUsage();
  const started = performance.now();
  let results: AttemptResult[] = [];
  if (c.parallel) results = await Promise.all(Array.from({ length: c.attempts }, (_, i) => attempt(i)));
  else for (let i = 0; i < c.attempts; i++) results.push(await attempt(i));
  const cpu = process.cpuUsage(before);
  const wallMs = performance.now() - started;
  pool?.close();
  const outcomes: Record<string, number> = {};
  for (const r of results) {
    const outcome = `${r.statusCode ?? "-"} ${r.error ?? "ok"}`;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  console.log(JSON.stringify({
    name: c.name,
    attempts: c.attempts,
    cpuMsPerAttempt: (cpu.user + cpu.system) / 1000 / c.attempts,
    wallMs,
    longestAttemptMs: Math.max(...results.map((r) => r.durationMs)),
    outcomes,
  }));
}
