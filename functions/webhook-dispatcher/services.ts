import type { Database } from "../_shared/db/database.ts";
import {
  databaseFromEnv,
  dispatcherKicker,
  type Env,
  jsonLogger,
  type LogLine,
  positiveInteger,
} from "../_shared/runtime/config.ts";
import type { DrainSettings } from "../_shared/webhooks/drain.ts";
import { parseDisableAfterSeconds, parseRetryDelays } from "../_shared/webhooks/retry-schedule.ts";
import type { Connect } from "../_shared/webhooks/pinned-post.ts";
import type { ResolveHost } from "../_shared/webhooks/url-policy.ts";

/**
 * How the runtime resolves names, opens connections and keeps work alive after the response (runtime/deno.ts and
 * runtime/deno-connect.ts deployed, runtime/node.ts in tests).
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
// crates/base/src/worker/supervisor/strategy_per_worker.rs, limits in .cargo/config.toml). The runtime gives the
// function no CPU clock of its own (process.cpuUsage() returns zeros there: ext/node/polyfills/process.ts), so the
// budget is a number of deliveries. Hosted deliveries are https://, and a TLS handshake is most of an attempt's
// CPU: about 3 ms per delivery on a fresh connection (`npm run -s bench:dispatcher-cpu`, bench/README.md). A
// retired worker takes no new kicks, so past the soft limit it finishes at most the one drain still claiming
// (drain-on-kick.ts; earlier drains only wait for attempts their budget already counted): 400 ms a drain keeps it
// under the hard limit with room to spare, 1 s + 400 ms < 2 s, for slower CPUs and the PostgREST seam. A project
// that reads Supabase's 200 ms figure as its limit sets WEBHOOK_DRAIN_CPU_BUDGET_MS=200. The claim window bounds the wall clock: the last
// claim at 25 s, its attempt (10 s) and record (5 s) done by about 40 s, inside the 150 s of the Free plan.
const CPU_MS_PER_DELIVERY = 3;
const DEFAULT_DRAIN_CPU_BUDGET_MS = 400;

// Isolation (docs/api-behaviour.md, "Isolation"): an endpoint holds at most 4 attempts in flight and a workspace
// 16, so the 64 sockets of a drain always leave room for other tenants; 5 failures in a row back the endpoint off
// for 30 s, doubling each time it fails again, up to an hour. Three lost attempts fail a delivery: one worker death
// can be bad luck, three in a row is the delivery.
const DRAIN_CONCURRENCY = 64;
const MAX_LOST_ATTEMPTS = 3;
const CIRCUIT_MAX_SECONDS = 3600;

/** Settings from the environment. Tests override the timing fields (timeout, lease) in the app factory's input. */
export function drainSettingsFromEnv(
  env: Env,
  platform: Pick<DispatcherPlatform, "resolveHost" | "connect">,
): DrainSettings {
  const cpuBudgetMs = positiveInteger(env, "WEBHOOK_DRAIN_CPU_BUDGET_MS", DEFAULT_DRAIN_CPU_BUDGET_MS);
  return {
    concurrency: DRAIN_CONCURRENCY,
    claimWindowMs: 25_000,
    maxDeliveries: Math.max(1, Math.floor(cpuBudgetMs / CPU_MS_PER_DELIVERY)),
    leaseSeconds: LEASE_SECONDS,
    timeoutMs: ATTEMPT_TIMEOUT_MS,
    retryDelaysSeconds: parseRetryDelays(env.WEBHOOK_RETRY_DELAYS),
    disableAfterSeconds: parseDisableAfterSeconds(env.WEBHOOK_DISABLE_AFTER_DAYS),
    inFlight: {
      endpointConcurrency: positiveInteger(env, "WEBHOOK_ENDPOINT_CONCURRENCY", 4),
      workspaceConcurrency: positiveInteger(env, "WEBHOOK_WORKSPACE_CONCURRENCY", 16),
    },
    maxLostAttempts: MAX_LOST_ATTEMPTS,
    circuit: {
      after: positiveInteger(env, "WEBHOOK_CIRCUIT_AFTER_FAILURES", 5),
      baseSeconds: positiveInteger(env, "WEBHOOK_CIRCUIT_OPEN_SECONDS", 30),
      maxSeconds: CIRCUIT_MAX_SECONDS,
    },
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
