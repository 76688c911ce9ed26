import type { Database } from "../_shared/db/database.ts";
import { databaseFromEnv, type Env, jsonLogger, type LogLine } from "../_shared/runtime/config.ts";
import type { DrainSettings } from "../_shared/webhooks/drain.ts";
import { parseRetryDelays } from "../_shared/webhooks/retry-schedule.ts";
import type { ResolveHost } from "../_shared/webhooks/url-policy.ts";

/** What the dispatcher needs from the outside world, built once per isolate. */
export interface DispatcherServices {
  db: Database;
  log: (line: LogLine) => void;
  /** The secret callers present as a bearer token; unset refuses every caller. */
  secret: string | undefined;
  settings: DrainSettings;
}

// The contract's 10 s per attempt; the lease adds room for the record call (5 s RPC timeout) and slack.
const ATTEMPT_TIMEOUT_MS = 10_000;
const LEASE_SECONDS = 30;

/** Settings from the environment. Tests override the timing fields (timeout, lease) in the app factory's input. */
export function drainSettingsFromEnv(env: Env, resolveHost: ResolveHost): DrainSettings {
  return {
    concurrency: 16,
    claimWindowMs: 25_000,
    maxDeliveries: 1_000,
    leaseSeconds: LEASE_SECONDS,
    timeoutMs: ATTEMPT_TIMEOUT_MS,
    retryDelaysSeconds: parseRetryDelays(env.WEBHOOK_RETRY_DELAYS),
    allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === "1",
    resolveHost,
  };
}

export function dispatcherServicesFromEnv(env: Env, platform: { resolveHost: ResolveHost }): DispatcherServices {
  return {
    db: databaseFromEnv(env),
    log: jsonLogger,
    secret: env.DISPATCHER_SECRET,
    settings: drainSettingsFromEnv(env, platform.resolveHost),
  };
}
