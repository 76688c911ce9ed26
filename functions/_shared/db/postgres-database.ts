import postgres from "postgres";
import { DatabaseUnavailableError } from "./unavailable.ts";
import { type Database, DEFAULT_RPC_TIMEOUT_MS } from "./database.ts";

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

// SQLSTATE classes that mean "the database is not there right now", not "the query is wrong".
const UNAVAILABLE_SQLSTATES = /^(08|53|57P0|57014)/;
// Driver-side codes for refused, dropped or timed-out connections.
const UNAVAILABLE_DRIVER_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "EPIPE",
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED",
]);

function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && (UNAVAILABLE_DRIVER_CODES.has(code) || UNAVAILABLE_SQLSTATES.test(code));
}

export interface PostgresDatabaseOptions {
  maxConnections?: number;
  timeoutMs?: number;
}

export interface PostgresDatabase extends Database {
  close(): Promise<void>;
}

/** The direct-driver side of the seam, for local runs, tests and benchmarks. */
export function createPostgresDatabase(url: string, options: PostgresDatabaseOptions = {}): PostgresDatabase {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const sql = postgres(url, {
    max: options.maxConnections ?? 10,
    connect_timeout: Math.ceil(timeoutMs / 1000),
    idle_timeout: 60,
    onnotice: () => {},
    connection: { statement_timeout: timeoutMs, application_name: "leadlex-functions" },
  });
  // One statement text per function and argument list, so the driver's prepared statements are reused.
  const statements = new Map<string, string>();

  function statementFor(name: string, argNames: string[]): string {
    const cacheKey = `${name}(${argNames.join(",")})`;
    let text = statements.get(cacheKey);
    if (!text) {
      for (const id of [name, ...argNames]) {
        if (!IDENTIFIER.test(id)) throw new Error(`not an SQL identifier: ${id}`);
      }
      const params = argNames.map((arg, i) => `${arg} => $${i + 1}`).join(", ");
      text = `select public.${name}(${params}) as result`;
      statements.set(cacheKey, text);
    }
    return text;
  }

  return {
    async rpc<T>(name: string, args: Record<string, unknown>): Promise<T> {
      const argNames = Object.keys(args);
      const values = argNames.map((k) => {
        const v = args[k];
        return v !== null && typeof v === "object" ? sql.json(v as postgres.JSONValue) : v;
      }) as postgres.ParameterOrJSON<never>[];
      const query = sql.unsafe(statementFor(name, argNames), values, { prepare: true });
      // statement_timeout covers a slow query; this covers a server that stopped answering altogether.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new DatabaseUnavailableError(`rpc ${name} timed out after ${timeoutMs} ms`));
          // Best effort: ask the server to drop the query. A server that stopped answering never confirms, and
          // an unhandled rejection from that would take the whole isolate down.
          Promise.resolve(query.cancel()).catch(() => {});
        }, timeoutMs + 500);
      });
      try {
        const rows = await Promise.race([query, deadline]);
        return rows[0].result as T;
      } catch (error) {
        if (error instanceof DatabaseUnavailableError) throw error;
        if (isUnavailable(error)) {
          throw new DatabaseUnavailableError(`rpc ${name}: ${(error as Error).message}`, { cause: error });
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
