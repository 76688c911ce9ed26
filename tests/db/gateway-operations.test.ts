// gateway_request runs an operation only if its name is an arm of gateway_operation's CASE. That list and the RPCs
// the routes call must be the same set: a route whose RPC is missing would fail every request in production, and
// an arm no route uses is surface nobody asked for.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RPC_NAMES } from "../../functions/_shared/db/rpc-catalogue.ts";
import { PROJECT_ROOT } from "../../scripts/local/paths.ts";
import { db } from "../support/fixtures.ts";

const ROUTES = path.join(PROJECT_ROOT, "functions/api-gateway/routes/v1");

async function rpcsTheRoutesCall(): Promise<string[]> {
  const entries = await readdir(ROUTES, { withFileTypes: true, recursive: true });
  const names = new Set<string>();
  for (const entry of entries.filter((e) => e.isFile() && e.name.endsWith(".ts"))) {
    const text = await readFile(path.join(entry.parentPath, entry.name), "utf8");
    for (const m of text.matchAll(/\.rpc\(\s*"([a-z_][a-z0-9_]*)"/g)) names.add(m[1]);
  }
  return [...names].sort();
}

async function operationArms(): Promise<string[]> {
  const [{ definition }] = await db()<{ definition: string }[]>`
    select pg_get_functiondef('public.gateway_operation(text, uuid, uuid, jsonb)'::regprocedure) as definition`;
  return [...definition.matchAll(/^\s*when '([a-z_]+)' then$/gm)].map((m) => m[1]).sort();
}

describe("gateway_operation", () => {
  it("runs exactly the RPCs the routes call, each a catalogued RPC", async () => {
    const routes = await rpcsTheRoutesCall();
    expect(routes.length).toBeGreaterThan(20);
    expect(await operationArms()).toEqual(routes);
    expect(routes.filter((name) => !(RPC_NAMES as string[]).includes(name))).toEqual([]);
  });

  it("refuses any other name", async () => {
    await expect(db()`select public.gateway_operation('health_check', gen_random_uuid(), null, '{}')`)
      .rejects.toThrow(/health_check is not a gateway operation/);
  });
});
