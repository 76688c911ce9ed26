import { PostgrestClient } from "@supabase/postgrest-js";
import { BUSY_SQLSTATES, DatabaseUnavailableError, UNREACHABLE_SQLSTATES } from "./unavailable.ts";
import { type Database, DEFAULT_RPC_TIMEOUT_MS } from "./database.ts";

// PostgREST or Postgres behind it cannot be reached: no HTTP answer at all (status 0: refused, reset), a gateway
// error from the proxy in front of PostgREST, PostgREST's own connection errors (PGRST00x), or the SQLSTATEs that
// say so (unavailable.ts). Our own deadline is not among them: the statement timeout PostgREST's role runs under
// is the project's, not ours, so a statement still running past the deadline is not proof of a lost database.
const UNREACHABLE_STATUSES = new Set([0, 502, 503, 504, 520]);
const POSTGREST_CONNECTION_ERRORS = /^PGRST00/;

/**
 * The headers supabase-js 2.109 sent PostgREST for a secret key (SupabaseClient's constructor and lib/fetch.ts in
 * packages/core/supabase-js of github.com/supabase/supabase-js): the key as `apikey` and as the bearer token (no
 * session, so no user token), and an X-Client-Info naming the client (`supabase-js/2.109.0; runtime=deno; ...`);
 * postgrest-js itself adds `Content-Profile: public` and `Content-Type: application/json` to the POST. The seam
 * imports postgrest-js alone: supabase-js also loaded its auth, realtime, storage and functions clients, 41 more
 * modules parsed at every cold start, for the one `rpc` call. X-Client-Info now names postgrest-js and the version
 * in package.json (tests/db/supabase-seam.test.ts holds the two equal).
 */
export const CLIENT_INFO = "postgrest-js/2.109.0";

export interface SupabaseDatabaseOptions {
  timeoutMs?: number;
}

/** The production side of the seam: `POST /rest/v1/rpc/<name>` through postgrest-js with the secret key. */
export function createSupabaseDatabase(
  url: string,
  secretKey: string,
  options: SupabaseDatabaseOptions = {},
): Database {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const client = new PostgrestClient(new URL("rest/v1", url.endsWith("/") ? url : `${url}/`).href, {
    headers: { apikey: secretKey, Authorization: `Bearer ${secretKey}`, "X-Client-Info": CLIENT_INFO },
    schema: "public",
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
