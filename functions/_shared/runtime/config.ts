import { withCircuitBreaker } from "../db/circuit-breaker.ts";
import type { Database } from "../db/database.ts";

export type Env = Record<string, string | undefined>;

/**
 * A deployment mistake, found at start-up. Its message names the variable and says what it should hold; a stack
 * trace would only bury that in the function's boot log, so it has none.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
    this.stack = `${this.name}: ${message}`;
  }
}

/** A positive whole number from the environment, or `fallback` when unset or empty. */
export function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
}

/**
 * Local runs and tests set DATABASE_URL and talk to Postgres directly; deployed functions have no such variable
 * and go through PostgREST with the project's secret key. Either way behind one circuit breaker per isolate, so an
 * unreachable database is answered at once instead of after a timeout per request.
 */
export async function databaseFromEnv(env: Env): Promise<Database> {
  return withCircuitBreaker(await seamFromEnv(env), {
    onChange: (state, reason) =>
      jsonLogger({ level: state === "open" ? "error" : "info", msg: `database circuit ${state}`, reason }),
  });
}

/**
 * Only the seam in use is loaded: a deployed isolate never runs postgres.js (10 modules) and a local one never
 * runs postgrest-js, and whatever is imported is parsed at every cold start and kept on the heap.
 */
async function seamFromEnv(env: Env): Promise<Database> {
  if (env.DATABASE_URL) {
    const { createPostgresDatabase } = await import("../db/postgres-database.ts");
    return createPostgresDatabase(env.DATABASE_URL);
  }
  const url = env.SUPABASE_URL;
  const key = secretKeyFromEnv(env);
  if (!url || !key) {
    throw new ConfigError("Set DATABASE_URL, or SUPABASE_URL with SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY");
  }
  const { createSupabaseDatabase } = await import("../db/supabase-database.ts");
  return createSupabaseDatabase(url, key);
}

const SECRET_KEYS_SHAPE =
  'SUPABASE_SECRET_KEYS must be a JSON object of key name to secret key, like {"default":"sb_secret_..."}';

/**
 * The platform provides SUPABASE_SECRET_KEYS as a JSON object of key name to secret key (the CLI's local stack
 * names its one key `default`); `default` is used, else the first. Errors never quote the value: it is a secret.
 */
function secretKeyFromEnv(env: Env): string | undefined {
  if (!env.SUPABASE_SECRET_KEYS) return env.SUPABASE_SERVICE_ROLE_KEY;
  let keys: unknown;
  try {
    keys = JSON.parse(env.SUPABASE_SECRET_KEYS);
  } catch {
    throw new ConfigError(`${SECRET_KEYS_SHAPE}; it is not JSON`);
  }
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) {
    throw new ConfigError(`${SECRET_KEYS_SHAPE}; it is JSON, but not an object`);
  }
  const values = Object.values(keys);
  if (values.length === 0) throw new ConfigError(`${SECRET_KEYS_SHAPE}; it is an empty object`);
  if (!values.every((value) => typeof value === "string" && value !== "")) {
    throw new ConfigError(`${SECRET_KEYS_SHAPE}; every value must be a non-empty string`);
  }
  return (keys as Record<string, string>).default ?? (values[0] as string);
}

/** One structured log line; the logger adds the time. */
export type LogLine = Record<string, unknown>;

/** A log line as one JSON object, with the time first: what Supabase's log explorer and terminals both read well. */
export function jsonLine(line: LogLine): string {
  return JSON.stringify({ ts: new Date().toISOString(), ...line });
}

/** Log lines through the console, which the edge runtime hands to the project's logs. */
export function jsonLogger(line: LogLine): void {
  console.log(jsonLine(line));
}

/**
 * A fire-and-forget POST to the dispatcher. `waitUntil` (EdgeRuntime's, when deployed) keeps the isolate alive
 * until it is sent; a failed kick only delays delivery until the next scheduled run.
 */
export function dispatcherKicker(env: Env, waitUntil: (p: Promise<unknown>) => void): () => void {
  const base = env.SUPABASE_URL;
  const secret = env.DISPATCHER_SECRET;
  if (!base || !secret) return () => {};
  const url = `${base.replace(/\/$/, "")}/functions/v1/webhook-dispatcher`;
  return () => {
    waitUntil(
      fetch(url, { method: "POST", headers: { Authorization: `Bearer ${secret}` } })
        .then((res) => res.body?.cancel())
        .catch((error) => jsonLogger({ level: "warn", msg: "dispatcher kick failed", error: String(error) })),
    );
  };
}
