import postgres from "postgres";
import { BUSY_SQLSTATES, DatabaseUnavailableError, UNREACHABLE_SQLSTATES } from "./unavailable.ts";
import { type Database, DEFAULT_RPC_TIMEOUT_MS } from "./database.ts";

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

// Failures of the connection itself, beside the SQLSTATEs that say so: driver codes for refused, dropped or
// silent connections.
const UNREACHABLE_DRIVER_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
]);

// The client deadline sits just past statement_timeout: a live server answers (if only with 57014) before it.
const DEADLINE_SLACK_MS = 500;
// A statement must start soon enough to end, by statement_timeout, before its caller's deadline: one that waited
// for a connection longer than this is not sent at all, since it could still commit after the caller was told 503.
const ADMISSION_WAIT_MS = DEADLINE_SLACK_MS / 2;
// The driver's default reconnect backoff grows to 20 s after a few refused attempts, which alone delays recovery
// by that much; the circuit breaker already spaces out attempts while the database is away.
const RECONNECT_BACKOFF_S = 0.1;

function unavailability(error: unknown): { unreachable: boolean } | undefined {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string") return undefined;
  if (UNREACHABLE_DRIVER_CODES.has(code) || UNREACHABLE_SQLSTATES.test(code)) return { unreachable: true };
  if (BUSY_SQLSTATES.test(code)) return { unreachable: false };
  return undefined;
}

/**
 * At most `size` queries in the driver at once; the others wait here, in a queue the seam owns, so a caller that
 * gives up is simply dropped. The driver's own queue is never used: postgres.js 3.4.9 cannot safely cancel a query
 * that is waiting there or for a reconnect (see tests/db/postgres-driver-cancel.test.ts).
 */
function admissionGate(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  const leave = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    /** Resolves with the function that gives the slot back, or undefined if none came free within `ms`. */
    enter(ms: number): Promise<(() => void) | undefined> {
      if (free > 0) {
        free--;
        return Promise.resolve(leave);
      }
      return new Promise((resolve) => {
        const admit = () => {
          clearTimeout(timer);
          resolve(leave);
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(admit), 1);
          resolve(undefined);
        }, ms);
        waiting.push(admit);
      });
    },
  };
}

export interface PostgresDatabaseOptions {
  maxConnections?: number;
  timeoutMs?: number;
}

export interface PostgresDatabase extends Database {
  close(): Promise<void>;
}

/**
 * The direct-driver side of the seam, for local runs, tests and benchmarks (and deployments with DATABASE_URL).
 *
 * A slow statement is ended by the server (statement_timeout); a server that stopped answering altogether by the
 * client deadline, which only stops waiting. Queries are never cancelled from the client: once in the driver, a
 * query runs or fails with its connection (or its pool, see replacePool), and it holds its slot until then.
 */
export function createPostgresDatabase(url: string, options: PostgresDatabaseOptions = {}): PostgresDatabase {
  const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const deadlineMs = timeoutMs + DEADLINE_SLACK_MS;
  const maxConnections = options.maxConnections ?? 10;
  const connect = () =>
    postgres(url, {
      max: maxConnections,
      connect_timeout: Math.ceil(timeoutMs / 1000),
      idle_timeout: 60,
      backoff: () => RECONNECT_BACKOFF_S,
      onnotice: () => {},
      connection: { statement_timeout: timeoutMs, application_name: "leadlex-functions" },
    });
  let sql = connect();
  // A query still unanswered `deadlineMs` after it reached the driver sits on a connection that is dead without its
  // socket saying so (a network partition, a frozen host: TCP keepalive would take many minutes). Only a new pool
  // gets rid of it; destroying the old one fails its queries, which gives their slots back.
  const replacePool = (stale: postgres.Sql) => {
    if (sql !== stale) return;
    sql = connect();
    void stale.end({ timeout: 0 });
  };
  const gate = admissionGate(maxConnections);
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

  async function run(name: string, args: Record<string, unknown>): Promise<unknown> {
    const argNames = Object.keys(args);
    const values = argNames.map((k) => {
      const v = args[k];
      return v !== null && typeof v === "object" ? sql.json(v as postgres.JSONValue) : v;
    }) as postgres.ParameterOrJSON<never>[];
    const text = statementFor(name, argNames);
    const leave = await gate.enter(ADMISSION_WAIT_MS);
    if (!leave) throw new DatabaseUnavailableError(`rpc ${name}: no connection free within ${ADMISSION_WAIT_MS} ms`);
    const client = sql;
    const result = client.unsafe(text, values, { prepare: true }).then((rows) => rows[0].result);
    const watchdog = setTimeout(() => replacePool(client), deadlineMs);
    const settle = () => (clearTimeout(watchdog), leave());
    result.then(settle, settle);
    return result;
  }

  return {
    async rpc<T>(name: string, args: Record<string, unknown>): Promise<T> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // The query had a connection within ADMISSION_WAIT_MS (or was never sent), so it has had the whole
          // statement_timeout: a live server answers by then, if only with 57014. No answer means it is unreachable.
          reject(new DatabaseUnavailableError(`rpc ${name}: no answer within ${deadlineMs} ms`, { unreachable: true }));
        }, deadlineMs);
      });
      const answer = run(name, args);
      // A caller that stopped waiting must not turn the query's later failure into an unhandled rejection.
      answer.catch(() => {});
      try {
        return await Promise.race([answer, deadline]) as T;
      } catch (error) {
        if (error instanceof DatabaseUnavailableError) throw error;
        const kind = unavailability(error);
        if (kind) {
          throw new DatabaseUnavailableError(`rpc ${name}: ${(error as Error).message}`, { cause: error, ...kind });
        }
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
