import { withCircuitBreaker } from "../db/circuit-breaker.ts";
import type { Database } from "../db/database.ts";
import { createPostgresDatabase } from "../db/postgres-database.ts";
import { createSupabaseDatabase } from "../db/supabase-database.ts";
import type { LogLine } from "../http/context.ts";

export type Env = Record<string, string | undefined>;

/**
 * Local runs and tests set DATABASE_URL and talk to Postgres directly; deployed functions have no such variable
 * and go through PostgREST with the project's secret key. Either way behind one circuit breaker per isolate, so an
 * unreachable database is answered at once instead of after a timeout per request.
 */
export function databaseFromEnv(env: Env): Database {
  return withCircuitBreaker(seamFromEnv(env), {
    onChange: (state, reason) =>
      jsonLogger({ level: state === "open" ? "error" : "info", msg: `database circuit ${state}`, reason }),
  });
}

function seamFromEnv(env: Env): Database {
  if (env.DATABASE_URL) return createPostgresDatabase(env.DATABASE_URL);
  const url = env.SUPABASE_URL;
  const key = secretKeyFromEnv(env);
  if (!url || !key) {
    throw new Error("Set DATABASE_URL, or SUPABASE_URL with SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY");
  }
  return createSupabaseDatabase(url, key);
}

function secretKeyFromEnv(env: Env): string | undefined {
  if (env.SUPABASE_SECRET_KEYS) {
    const keys = JSON.parse(env.SUPABASE_SECRET_KEYS) as Record<string, string>;
    const first = keys.default ?? Object.values(keys)[0];
    if (first) return first;
  }
  return env.SUPABASE_SERVICE_ROLE_KEY;
}

export function requiredEnv(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** One JSON object per line on stdout: what Supabase's log explorer and local terminals both read well. */
export function jsonLogger(line: LogLine): void {
  console.log(JSON.stringify({ ts: new Date().toISOString(), ...line }));
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
