// Operator CLI: `npm run -s admin -- <resource> <command> [flags]`. One JSON object per command on stdout.
// Uses DATABASE_URL, or the database of the running (or last) `npm start`.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { LOCAL_STATE_FILE } from "./local/paths.ts";
import {
  createApiKey,
  createWorkspace,
  listApiKeys,
  PLANS,
  ProvisioningError,
  RATE_LIMIT_TIERS,
  revokeApiKey,
} from "./admin/provisioning.ts";

const USAGE = `usage:
  admin workspace create --name NAME [--plan ${PLANS.join("|")}]
  admin key create --workspace ID --permissions p1,p2 [--name N] [--tier ${RATE_LIMIT_TIERS.join("|")}] [--expires-at ISO]
  admin key revoke ID
  admin key list --workspace ID`;

class UsageError extends Error {}

async function databaseUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  try {
    return (JSON.parse(await readFile(LOCAL_STATE_FILE, "utf8")) as { database_url: string }).database_url;
  } catch {
    throw new UsageError("no database: set DATABASE_URL, or run `npm start` first");
  }
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
  const sql = postgres(await databaseUrl(), { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    switch (`${resource} ${command}`) {
      case "workspace create":
        return await createWorkspace(sql, { name: required(values.name, "name"), plan: values.plan });
      case "key create":
        return await createApiKey(sql, {
          workspaceId: required(values.workspace, "workspace"),
          permissions: required(values.permissions, "permissions").split(",").map((p) => p.trim()).filter(Boolean),
          name: values.name,
          tier: values.tier,
          expiresAt: values["expires-at"],
        });
      case "key revoke":
        return await revokeApiKey(sql, required(arg, "key id (positional)"));
      case "key list":
        return { api_keys: await listApiKeys(sql, required(values.workspace, "workspace")) };
      default:
        throw new UsageError(`unknown command: ${positionals.join(" ") || "(none)"}`);
    }
  } finally {
    await sql.end({ timeout: 2 });
  }
}

try {
  console.log(JSON.stringify(await main(process.argv.slice(2))));
} catch (error) {
  const known = error instanceof UsageError || error instanceof ProvisioningError ||
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  if (known) {
    console.error(`admin: ${(error as Error).message}\n${error instanceof UsageError ? USAGE : ""}`.trim());
  } else {
    console.error(`admin: ${(error as Error).message ?? error}`);
  }
  process.exit(error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 64 : 1);
}
