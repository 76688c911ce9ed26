// Operator CLI: `npm run -s admin -- <resource> <command> [flags]`. One JSON object per command on stdout.
// Uses DATABASE_URL, or the database of the running (or last) `npm start`.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { LOCAL_STATE_FILE } from "./local/paths.ts";
import {
  createApiKey,
  createWorkspace,
  isIsoTime,
  listApiKeys,
  PLANS,
  RATE_LIMIT_TIERS,
  revokeApiKey,
} from "./admin/provisioning.ts";

const USAGE = `usage:
  admin workspace create --name NAME [--plan ${PLANS.join("|")}]
  admin key create --workspace ID --permissions p1,p2 [--name N] [--tier ${
  RATE_LIMIT_TIERS.join("|")
}] [--expires-at ISO]
  admin key revoke ID
  admin key list --workspace ID`;

class UsageError extends Error {}

class UnreachableError extends Error {}

/** DATABASE_URL, or the database of the running (or last) `npm start`, which records it in .data/local.json. */
async function database(): Promise<{ url: string; source: string }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, source: "DATABASE_URL" };
  try {
    const url = (JSON.parse(await readFile(LOCAL_STATE_FILE, "utf8")) as { database_url?: unknown }).database_url;
    if (typeof url === "string" && url) return { url, source: "npm start (.data/local.json)" };
  } catch {
    // no npm start yet
  }
  throw new UsageError("no database: set DATABASE_URL, or run `npm start` first");
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "CONNECT_TIMEOUT", "57P03"]);

/** Where the URL points, without its password. */
function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

function expiresAt(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!isIsoTime(value)) {
    throw new UsageError(
      `--expires-at must be an ISO 8601 time with a zone, e.g. 2027-01-01T00:00:00Z (got: ${value})`,
    );
  }
  if (new Date(value).getTime() <= Date.now()) throw new UsageError(`--expires-at is in the past: ${value}`);
  return value;
}

function permissionList(value: string): string[] {
  const list = [...new Set(value.split(",").map((p) => p.trim()).filter(Boolean))];
  if (list.length === 0) throw new UsageError("--permissions needs at least one permission");
  return list;
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`missing --${flag}`);
  return value;
}

async function main(argv: string[]): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: "string" },
      plan: { type: "string" },
      workspace: { type: "string" },
      permissions: { type: "string" },
      tier: { type: "string" },
      "expires-at": { type: "string" },
    },
  });
  const [resource, command, arg] = positionals;
  // The command and its flags are checked before any database is looked for.
  let run: (sql: postgres.Sql) => Promise<unknown>;
  switch (`${resource} ${command}`) {
    case "workspace create": {
      const input = { name: required(values.name, "name"), plan: values.plan };
      run = (sql) => createWorkspace(sql, input);
      break;
    }
    case "key create": {
      const input = {
        workspaceId: required(values.workspace, "workspace"),
        permissions: permissionList(required(values.permissions, "permissions")),
        name: values.name,
        tier: values.tier,
        expiresAt: expiresAt(values["expires-at"]),
      };
      run = (sql) => createApiKey(sql, input);
      break;
    }
    case "key revoke": {
      const id = required(arg, "key id (positional)");
      run = (sql) => revokeApiKey(sql, id);
      break;
    }
    case "key list": {
      const workspaceId = required(values.workspace, "workspace");
      run = async (sql) => ({ api_keys: await listApiKeys(sql, workspaceId) });
      break;
    }
    default:
      throw new UsageError(`unknown command: ${positionals.join(" ") || "(none)"}`);
  }

  const { url, source } = await database();
  // prepare: false: Supabase's transaction pooler (port 6543) may run each transaction on another server connection,
  // where a named prepared statement does not exist. Unnamed ones work there, and through the session pooler or a
  // direct connection alike; an operator's handful of statements loses nothing by it.
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5, prepare: false });
  try {
    return await run(sql);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code && UNREACHABLE.has(code)) {
      throw new UnreachableError(
        `cannot reach the database at ${hostOf(url)} (from ${source}): ${(error as Error).message}` +
          (source.startsWith("npm start") ? ". Is `npm start` still running?" : ""),
      );
    }
    throw error;
  } finally {
    await sql.end({ timeout: 2 });
  }
}

try {
  console.log(JSON.stringify(await main(process.argv.slice(2))));
} catch (error) {
  const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  console.error(`admin: ${(error as Error).message ?? error}${usage ? `\n${USAGE}` : ""}`);
  process.exit(usage ? 64 : 1);
}
