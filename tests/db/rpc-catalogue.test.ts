// The RPC catalogue against the migrated schema and against the code, so that renaming a function or an argument
// on either side fails here rather than as a PostgREST 404 (PGRST202) in production.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { RPC_ARGUMENTS, RPC_NAMES, type RpcArgs, type RpcName } from "@shared/db/rpc-catalogue.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { db } from "../support/fixtures.ts";

/** Functions the RPCs call from SQL; the code never calls them itself. */
const INTERNAL = [
  "plan_limits",
  "iso_utc",
  "list_position",
  "enqueue_webhook_event",
  "campaign_json",
  "transition_campaign",
  "webhook_json",
  "api_key_is_active",
  "api_key_json",
  "webhook_delivery_due",
  "webhook_dispatch_fan_out",
  "rate_limit_tier_rank",
  "webhook_url_digest",
  "webhook_delivery_json",
  "webhook_attempt_json",
  "key_for_request",
  "rate_limit_answer",
  "rate_limit_usage",
  "rate_limit_precheck",
  "rate_limit_count",
  "stamp_key_used",
  "key_identity",
  "gateway_operation",
  "idempotency_window",
  "idempotency_claim",
  "gateway_run",
  "webhook_circuit_open_seconds",
  "webhook_endpoint_attempted",
  "api_key_excess",
  "gateway_caller_arguments",
  "gateway_operation_source",
  "gateway_operations_changed",
  "uuid_v7",
];

interface PublicFunction {
  name: string;
  args: string[];
  service_role: boolean;
}

async function publicFunctions(): Promise<PublicFunction[]> {
  return await db()<PublicFunction[]>`
    select p.proname as name, coalesce(p.proargnames[1:p.pronargs], '{}') as args,
           has_function_privilege('service_role', p.oid, 'execute') as service_role
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public'`;
}

/**
 * Every function name the TypeScript sources call: `.rpc("name", ...)`, an operation's `rpc: "name"` (run by
 * gateway_request), or `public.name(` in SQL text.
 */
async function namesCalledInCode(): Promise<Set<string>> {
  const files = (await Promise.all(["functions", "scripts"].map((dir) => sources(path.join(PROJECT_ROOT, dir)))))
    .flat();
  const called = new Set<string>();
  for (const file of files.filter((f) => !f.endsWith("rpc-catalogue.ts"))) {
    const text = await readFile(file, "utf8");
    const calls =
      /\.rpc\b[^(]*\(\s*"([a-z_][a-z0-9_]*)"|\brpc: "([a-z_][a-z0-9_]*)"|\bpublic\.([a-z_][a-z0-9_]*)\s*\(/g;
    for (const m of text.matchAll(calls)) called.add(m[1] ?? m[2] ?? m[3]);
  }
  return called;
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => path.join(e.parentPath, e.name));
}

describe("the RPC catalogue", () => {
  it("lists each RPC's arguments exactly as its SQL function declares them (all of them), and service_role may call it", async () => {
    const functions = await publicFunctions();
    for (const name of RPC_NAMES) {
      const overloads = functions.filter((f) => f.name === name);
      expect(overloads, `public.${name}: one function`).toHaveLength(1);
      const [fn] = overloads;
      expect(fn.args, `public.${name}: argument names`).toEqual(RPC_ARGUMENTS[name]);
      expect(fn.service_role, `public.${name}: executable by service_role`).toBe(true);
    }
  });

  it("holds every function service_role may execute that the code calls; the rest are SQL-only helpers", async () => {
    const executable = (await publicFunctions()).filter((f) => f.service_role).map((f) => f.name);
    const called = await namesCalledInCode();
    const calledFunctions = executable.filter((name) => called.has(name));
    expect(calledFunctions.filter((name) => !(RPC_NAMES as string[]).includes(name)), "called, not catalogued").toEqual(
      [],
    );
    expect(calledFunctions.filter((name) => INTERNAL.includes(name)), "listed as SQL-only, yet called").toEqual([]);
    expect(
      executable.filter((name) => !(RPC_NAMES as string[]).includes(name) && !INTERNAL.includes(name)),
      "executable by service_role but neither catalogued nor a SQL-only helper",
    ).toEqual([]);
    // The scan finds what it looks for: the gateway's calls and the operator CLI's SQL call.
    expect(called).toContain("gateway_request");
    expect(called).toContain("create_api_key");
  });

  it("types every argument it lists, and lists every argument it types", () => {
    type Unlisted = { [N in RpcName]: Exclude<keyof RpcArgs<N>, (typeof RPC_ARGUMENTS)[N][number]> }[RpcName];
    // Checked by the compiler (npm run typecheck); the other direction is RPC_ARGUMENTS' `satisfies`.
    expectTypeOf<Unlisted>().toEqualTypeOf<never>();
  });
});
