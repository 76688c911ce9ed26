import type { Database } from "../_shared/db/database.ts";
import { databaseFromEnv, dispatcherKicker, type Env, jsonLogger, type LogLine } from "../_shared/runtime/config.ts";
import type { DrainSettings } from "../_shared/webhooks/drain.ts";
import { parseDisableAfterSeconds, parseRetryDelays } from "../_shared/webhooks/retry-schedule.ts";
import type { Connect } from "../_shared/webhooks/pinned-post.ts";
import type { ResolveHost } from "../_shared/webhooks/url-policy.ts";

/**
 * How the runtime resolves names, opens connections and keeps work alive after the response (runtime/deno.ts
 * deployed, runtime/node.ts in tests).
 */
export interface DispatcherPlatform {
  resolveHost: ResolveHost;
  connect: Connect;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** What the dispatcher needs from the outside world, built once per isolate. */
export interface DispatcherServices {
  db: Database;
  log: (line: LogLine) => void;
  /** The secret callers present as a bearer token; unset refuses every caller. */
  secret: string | undefined;
  settings: DrainSettings;
  /** Keeps the drain alive after the 202 (EdgeRuntime.waitUntil when deployed). */
  waitUntil: (promise: Promise<unknown>) => void;
  /** Wakes a fresh invocation of this function; must not throw or block. */
  kickAgain: () => void;
}

// The contract's 10 s per attempt; the lease adds room for the record call (5 s RPC timeout) and slack.
const ATTEMPT_TIMEOUT_MS = 10_000;
const LEASE_SECONDS = 30;

// The CPU budget of one drain. Supabase's edge runtime measures the CPU time of the worker's JS thread around
// every turn of its event loop and adds it up for the worker's life, so work kept alive by EdgeRuntime.waitUntil
// counts like the request itself; at the soft limit (1 s) the worker gets no new requests, at the hard limit (2 s)
// it is terminated mid-whatever (supabase/edge-runtime: crates/base/src/runtime/mod.rs get_cpu_metrics_guard,
// crates/base/src/worker/supervisor/strategy_per_worker.rs, limits in .cargo/config.toml). A worker killed
// mid-batch sends its claimed deliveries again once their lease runs out. The runtime gives the function no CPU
// clock of its own (process.cpuUsage() returns zeros there: ext/node/polyfills/process.ts), so the budget is a
// number of deliveries. Measured under Deno, one delivery (its share of the kick, claim, signing, fetch, record)
// costs 0.73-0.88 ms of CPU (`npm run -s bench:dispatcher-cpu`; README, "Dispatcher CPU and invocations"),
// taken here as 1 ms. 250 ms a drain leaves 4x headroom to the soft limit and 8x to the hard one, for slower
// CPUs, TLS handshakes and the PostgREST seam, and room for the one follow-up drain that may still run after the
// worker is retired (coalesced-runs.ts). The claim window bounds the wall clock: the last claim at 25 s, its attempt (10 s)
// and record (5 s) done by about 40 s, inside the 150 s a worker may live on the Free plan.
const MEASURED_CPU_MS_PER_DELIVERY = 1;
const DRAIN_CPU_BUDGET_MS = 250;

/** Settings from the environment. Tests override the timing fields (timeout, lease) in the app factory's input. */
export function drainSettingsFromEnv(
  env: Env,
  platform: Pick<DispatcherPlatform, "resolveHost" | "connect">,
): DrainSettings {
  return {
    concurrency: 16,
    claimWindowMs: 25_000,
    maxDeliveries: Math.floor(DRAIN_CPU_BUDGET_MS / MEASURED_CPU_MS_PER_DELIVERY),
    leaseSeconds: LEASE_SECONDS,
    timeoutMs: ATTEMPT_TIMEOUT_MS,
    retryDelaysSeconds: parseRetryDelays(env.WEBHOOK_RETRY_DELAYS),
    disableAfterSeconds: parseDisableAfterSeconds(env.WEBHOOK_DISABLE_AFTER_DAYS),
    allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === "1",
    resolveHost: platform.resolveHost,
    connect: platform.connect,
  };
}

export async function dispatcherServicesFromEnv(env: Env, platform: DispatcherPlatform): Promise<DispatcherServices> {
  return {
    db: await databaseFromEnv(env),
    log: jsonLogger,
    secret: env.DISPATCHER_SECRET,
    settings: drainSettingsFromEnv(env, platform),
    waitUntil: platform.waitUntil,
    kickAgain: dispatcherKicker(env, platform.waitUntil),
  };
}
