import { createClient } from "@supabase/supabase-js";
import { BUSY_SQLSTATES, DatabaseUnavailableError, UNREACHABLE_SQLSTATES } from "./unavailable.ts";
import { type Database, DEFAULT_RPC_TIMEOUT_MS } from "./database.ts";

// PostgREST or Postgres behind it cannot be reached: no HTTP answer at all (status 0: refused, reset), a gateway
// error from the proxy in front of PostgREST, PostgREST's own connection errors (PGRST00x), or the SQLSTATEs that
// say so (unavailable.ts). Our own deadline is not among them: the statement timeout PostgREST's role runs under
// is the project's, not ours, so a statement still running past the deadline is not proof of a lost database.
const UNREACHABLE_STATUSES = new Set([0, 502, 503, 504, 520]);
const POSTGREST_CONNECTION_ERRORS = /^PGRST00/;

/**
 * The seam only talks to PostgREST, but supabase-js builds a Realtime client too, and on a runtime without a global
 * WebSocket (Node 20: the tests, the benchmark) that constructor throws unless it is handed a transport. This one
 * is never used; it fails loudly if anything ever tries to open a Realtime socket through the seam's client.
 */
class NoRealtimeTransport {
  constructor() {
    throw new Error("the database seam does not use Supabase Realtime");
  }
}

export interface SupabaseDatabaseOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The production side of the seam: `POST /rest/v1/rpc/<name>` through supabase-js with the secret key. */
export function createSupabaseDatabase(
  url: string,
  secretKey: string,
  options: SupabaseDatabaseOptions = {},
): Database {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const client = createClient(url, secretKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: options.fetch ? { fetch: options.fetch } : {},
    realtime: { transport: NoRealtimeTransport as unknown as typeof WebSocket },
  });

  return {
    async rpc<T>(name: string, args: Record<string, unknown>): Promise<T> {
      const deadline = AbortSignal.timeout(timeoutMs);
      const { data, error, status } = await client.rpc(name, args).abortSignal(deadline);
      if (!error) return data as T;
      if (status === 0 && deadline.aborted) {
        throw new DatabaseUnavailableError(`rpc ${name}: timed out, no answer in ${timeoutMs} ms`, {
          unanswered: true,
        });
      }
      const code = error.code ?? "";
      const unreachable = UNREACHABLE_STATUSES.has(status) || UNREACHABLE_SQLSTATES.test(code) ||
        POSTGREST_CONNECTION_ERRORS.test(code);
      if (unreachable || BUSY_SQLSTATES.test(code)) {
        throw new DatabaseUnavailableError(`rpc ${name}: ${describe(status, error)}`, { unreachable });
      }
      throw new Error(`rpc ${name} failed: ${describe(status, error)}`);
    },
  };
}

/** For the log line: the status and SQLSTATE, or for a network failure (status 0) its underlying cause. */
function describe(status: number, error: { code?: string; message: string; details?: string | null }): string {
  if (status === 0) {
    const cause = /Caused by: ([^\n]+)/.exec(error.details ?? "")?.[1];
    return `network error: ${error.message}${cause ? ` (${cause})` : ""}`;
  }
  return `${status}${error.code ? ` ${error.code}` : ""} ${error.message}`;
}
