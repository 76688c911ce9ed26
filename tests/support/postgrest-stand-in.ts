// THE ONE FAKE IN THE SUITE. PostgREST cannot run here (no Docker, and no PostgREST binary or package is reachable
// from this machine), so this is a stand-in for it: a real HTTP server that plays Supabase's API front + PostgREST
// for `POST /rest/v1/rpc/<fn>` only. What it fakes is the HTTP layer; what it answers is real: it checks each
// request exactly as PostgREST receives it from the seam (postgrest-js), runs the function on the real test Postgres
// the way PostgREST does (one transaction, `service_role`, read-only for STABLE/IMMUTABLE functions, arguments
// converted by Postgres from the JSON body) and answers with PostgREST's bodies and status codes.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text, as sent. */
  body: string;
  /** The status the stand-in answered with (set once answered). */
  status?: number;
}

export interface PostgrestStandIn {
  /** The project URL to hand to the seam, e.g. http://127.0.0.1:PORT */
  url: string;
  /** Every request received, in order. */
  requests: SeenRequest[];
  /** Requests that PostgREST (or the API front before it) would have refused, and why. Tests expect none. */
  problems: string[];
  close(): Promise<void>;
}

const RPC_PATH = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/;

interface ServerError {
  code: string;
  message: string;
  /** The error's DETAIL, if any. */
  detail?: string;
}

/**
 * PostgREST's SQLSTATE -> HTTP status table for an error Postgres raised while running the call (the authenticated
 * case: the stand-in only runs calls made with the secret key). Mirrors mapSQLtoHTTP in PostgREST's
 * src/library/PostgREST/Error.hs (github.com/PostgREST/postgrest, as of 2026-08), rule by rule and in its order:
 * the first rule that matches wins, so exact codes come before their class.
 */
export function postgrestStatus({ code, message, detail }: ServerError): number {
  const rules: [test: string | ((code: string) => boolean), status: number | (() => number)][] = [
    [klass("08"), 503], // connection exception
    [klass("09"), 500], // triggered action exception
    [klass("0L"), 403], // invalid grantor
    [klass("0P"), 403], // invalid role specification
    ["23503", 409], // foreign_key_violation
    ["23505", 409], // unique_violation
    ["25006", 405], // read_only_sql_transaction
    // cardinality_violation: pg-safeupdate's refusal is the client's fault, anything else the function's.
    ["21000", () => (message.endsWith("requires a WHERE clause") ? 400 : 500)],
    // invalid_parameter_value: a JWT role that does not exist is 401.
    ["22023", () => (message.startsWith("role") && message.endsWith("does not exist") ? 401 : 400)],
    [klass("25"), 500], // invalid transaction state
    [klass("28"), 403], // invalid authorization specification
    [klass("2D"), 500], // invalid transaction termination
    [klass("38"), 500], // external routine exception
    [klass("39"), 500], // external routine invocation exception
    [klass("3B"), 500], // savepoint exception
    [klass("40"), 500], // transaction rollback
    ["53400", 500], // configuration_limit_exceeded
    [klass("53"), 503], // insufficient resources
    [klass("54"), 500], // program limit exceeded
    [klass("55"), 500], // object not in prerequisite state
    ["57P01", 503], // admin_shutdown
    [klass("57"), 500], // operator intervention
    [klass("58"), 500], // system error
    [klass("F0"), 500], // configuration file error
    [klass("HV"), 500], // foreign data wrapper error
    ["P0001", 400], // raise_exception, the default of RAISE
    [klass("P0"), 500], // PL/pgSQL error
    [klass("XX"), 500], // internal error
    ["42883", () => (message.startsWith("function xmlagg(") ? 406 : 404)], // undefined_function
    ["42P01", 404], // undefined_table
    ["42P17", 500], // invalid_object_definition (infinite recursion)
    ["42501", 403], // insufficient_privilege (401 when the request carried no JWT role)
    [klass("PT"), () => {
      const status = Number(code.slice(2));
      return Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500;
    }],
    // RAISE ... USING ERRCODE = 'PGRST': the status comes from the JSON in DETAIL; unparseable is a 500.
    ["PGRST", () => {
      try {
        const status = JSON.parse(detail ?? "").status;
        return Number.isInteger(status) ? status : 500;
      } catch {
        return 500;
      }
    }],
  ];
  for (const [test, status] of rules) {
    if (typeof test === "string" ? test === code : test(code)) return typeof status === "number" ? status : status();
  }
  return 400;
}

function klass(prefix: string): (code: string) => boolean {
  return (code) => code.startsWith(prefix);
}

const CONNECTION_FAILURES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
]);

interface Signature {
  args: { name: string; type: string; hasDefault: boolean }[];
  readOnly: boolean;
  /** The function's own `set statement_timeout` clause, if any. */
  statementTimeout: string | null;
}

/**
 * Starts the stand-in. `key` is the only key the API front accepts (apikey header and bearer token both).
 * `statementTimeoutMs` plays the role-level statement_timeout Supabase sets.
 */
export async function startPostgrestStandIn(options: {
  databaseUrl: string;
  key: string;
  statementTimeoutMs?: number;
}): Promise<PostgrestStandIn> {
  const sql = postgres(options.databaseUrl, {
    max: 4,
    onnotice: () => {},
    connect_timeout: 2,
    connection: { application_name: "postgrest-stand-in" },
  });
  const requests: SeenRequest[] = [];
  const problems: string[] = [];

  async function signatures(fn: string): Promise<Signature[]> {
    const rows = await sql<
      { names: string[] | null; types: string[]; defaults: number; volatility: string; timeout: string | null }[]
    >`
      select p.proargnames as names, p.pronargdefaults as defaults, p.provolatile as volatility,
             array(select format_type(t, null) from unnest(p.proargtypes) as t) as types,
             (select substr(c, length('statement_timeout=') + 1) from unnest(p.proconfig) as c
               where c like 'statement\\_timeout=%') as timeout
        from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.proname = ${fn}`;
    return rows.map((r) => ({
      args: r.types.map((type, i) => ({
        name: r.names?.[i] ?? "",
        type,
        hasDefault: i >= r.types.length - r.defaults,
      })),
      readOnly: r.volatility !== "v",
      statementTimeout: r.timeout,
    }));
  }

  async function call(
    fn: string,
    args: Record<string, unknown>,
    rawBody: string,
  ): Promise<{ status: number; body: string }> {
    const keys = Object.keys(args);
    // PostgREST picks the overload whose parameter names match the JSON keys (parameters with defaults may be left out).
    const match = (await signatures(fn)).find((s) =>
      keys.every((k) => s.args.some((a) => a.name === k)) &&
      s.args.every((a) => a.hasDefault || keys.includes(a.name))
    );
    if (!match) {
      return error(404, {
        code: "PGRST202",
        details: `Searched for the function public.${fn} with parameters ${keys.sort().join(", ") || "(none)"}` +
          " or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
        hint: null,
        message: `Could not find the function public.${fn}(${keys.sort().join(", ")}) in the schema cache`,
      });
    }
    const used = match.args.filter((a) => keys.includes(a.name));
    const quote = (id: string) => `"${id.replaceAll('"', '""')}"`;
    const call = `public.${quote(fn)}(${used.map((a) => `${quote(a.name)} := _.${quote(a.name)}`).join(", ")})`;
    // The JSON body goes in as a literal (standard_conforming_strings is on: only quotes need doubling).
    const from = used.length
      ? ` from json_to_record('${rawBody.replaceAll("'", "''")}'::json) as _(${
        used.map((a) => `${quote(a.name)} ${a.type}`).join(", ")
      })`
      : "";
    // Like PostgREST: one transaction as the key's role, read-only for STABLE/IMMUTABLE functions, and the value
    // as JSON ('null' for SQL NULL). Sent as one multi-statement query, which Postgres runs as one implicit
    // transaction that it rolls back by itself on error, so a connection killed mid-call needs no cleanup here.
    // The role's statement_timeout first, then the function's own (PostgREST's "function settings", applied as
    // transaction-scoped settings before the call, so they override the role's); Postgres arms the timer of each
    // statement of the query when that statement starts, so the call runs under the last one set.
    const functionTimeout = match.statementTimeout === null
      ? ""
      : `set local statement_timeout = '${match.statementTimeout.replaceAll("'", "''")}';`;
    const results = await sql.unsafe<{ body: string }[][]>(`
      set local role service_role;
      set local statement_timeout = ${Math.trunc(options.statementTimeoutMs ?? 8000)};
      ${functionTimeout}
      ${match.readOnly ? "set transaction read only;" : ""}
      select coalesce((json_agg(pgrst_call.pgrst_scalar) -> 0)::text, 'null') as body
        from (select ${call} as pgrst_scalar${from}) as pgrst_call`);
    const result = results.at(-1)!;
    return { status: 200, body: result[0].body };
  }

  function error(status: number, body: { code: string; details: string | null; hint: string | null; message: string }) {
    return { status, body: JSON.stringify(body) };
  }

  async function handle(seen: SeenRequest): Promise<{ status: number; body: string }> {
    const refuse = (problem: string, status: number, code: string) => {
      problems.push(problem);
      return error(status, { code, details: null, hint: null, message: problem });
    };
    // The API front: the key must come as `apikey` and as the bearer token.
    if (seen.headers.apikey !== options.key) return refuse("Invalid API key (apikey header)", 401, "401");
    if (seen.headers.authorization !== `Bearer ${options.key}`) {
      return refuse("Invalid API key (Authorization header)", 401, "PGRST301");
    }
    const match = RPC_PATH.exec(seen.path);
    if (!match) return refuse(`not an RPC path: ${seen.path}`, 404, "PGRST125");
    if (seen.method !== "POST") return refuse(`RPC called with ${seen.method}, expected POST`, 405, "PGRST101");
    const profile = seen.headers["content-profile"];
    if (profile !== undefined && profile !== "public") {
      return refuse(`schema ${profile} is not exposed`, 406, "PGRST106");
    }
    if (seen.headers["content-type"] !== "application/json") {
      return refuse(`Content-Type ${seen.headers["content-type"]}, expected application/json`, 415, "PGRST107");
    }
    let args: unknown;
    try {
      args = JSON.parse(seen.body);
    } catch {
      return refuse("body is not JSON", 400, "PGRST102");
    }
    if (args === null || typeof args !== "object" || Array.isArray(args)) {
      return refuse("body is not a JSON object of named arguments", 400, "PGRST102");
    }
    try {
      return await call(match[1], args as Record<string, unknown>, seen.body);
    } catch (e) {
      const err = e as { code?: string; message?: string; detail?: string; hint?: string };
      if (err.code && CONNECTION_FAILURES.has(err.code)) {
        // What PostgREST answers while it cannot reach Postgres.
        return error(503, {
          code: "PGRST000",
          details: err.message ?? null,
          hint: null,
          message:
            "Could not connect with the database due to an incorrect db-uri or due to the PostgreSQL service not running.",
        });
      }
      if (!err.code || !/^[0-9A-Z]{5}$/.test(err.code)) throw e;
      return error(postgrestStatus({ code: err.code, message: err.message ?? "", detail: err.detail }), {
        code: err.code,
        details: err.detail ?? null,
        hint: err.hint ?? null,
        message: err.message ?? "",
      });
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen: SeenRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(seen);
      handle(seen).then(
        ({ status, body }) => {
          seen.status = status;
          res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end(body);
        },
        (e) => {
          problems.push(`stand-in failed: ${e instanceof Error ? e.stack : e}`);
          res.writeHead(500).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    problems,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sql.end({ timeout: 1 });
    },
  };
}
