import { createClient } from "@supabase/supabase-js";
import { DatabaseUnavailableError } from "../http/errors.ts";
import { type Database, DEFAULT_RPC_TIMEOUT_MS } from "./database.ts";

// What PostgREST answers when Postgres is down, overloaded or too slow: 503/504 from PostgREST itself or the
// API gateway in front of it, or SQLSTATEs for connection loss, shutdown and statement timeout (sent as 500/503).
const UNAVAILABLE_STATUSES = new Set([0, 502, 503, 504, 520]);
const UNAVAILABLE_SQLSTATES = /^(08|53|57P0|57014|PGRST00)/;

export interface SupabaseDatabaseOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The production side of the seam: `POST /rest/v1/rpc/<name>` through supabase-js with the secret key. */
export function createSupabaseDatabase(url: string, secretKey: string, options: SupabaseDatabaseOptions = {}): Database {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const client = createClient(url, secretKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: options.fetch ? { fetch: options.fetch } : {},
  });

  return {
    async rpc<T>(name: string, args: Record<string, unknown>): Promise<T> {
      const { data, error, status } = await client.rpc(name, args).abortSignal(AbortSignal.timeout(timeoutMs));
      if (!error) return data as T;
      if (UNAVAILABLE_STATUSES.has(status) || UNAVAILABLE_SQLSTATES.test(error.code ?? "")) {
        throw new DatabaseUnavailableError(`rpc ${name}: ${status} ${error.code} ${error.message}`);
      }
      throw new Error(`rpc ${name} failed: ${status} ${error.code} ${error.message}`);
    },
  };
}
