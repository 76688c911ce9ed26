import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { databaseUrl, db } from "../support/fixtures.ts";

const run = promisify(execFile);

// What `supabase db advisors` checks, asserted on the migrated schema so a migration cannot quietly regress it.
describe("schema security", () => {
  it("every table in public has row level security on and no grants to anon or authenticated", async () => {
    const tables = await db()`
      select c.relname, c.relrowsecurity,
             has_table_privilege('anon', c.oid, 'select') as anon_select,
             has_table_privilege('authenticated', c.oid, 'select') as authenticated_select
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r'`;
    expect(tables.length).toBeGreaterThanOrEqual(8);
    for (const t of tables) {
      expect(t, t.relname).toMatchObject({ relrowsecurity: true, anon_select: false, authenticated_select: false });
    }
  });

  // Exactly the operations the RPCs perform (20261130000100 says which and why; retention deletes webhook
  // history, 20261130001010; 20261207000300 for idempotency_keys); a table created later inherits TRUNCATE, REFERENCES, TRIGGER and MAINTAIN from the hosted
  // default privileges unless its migration takes them back.
  it("service_role holds exactly the table privileges the RPCs use, and no more", async () => {
    const granted = await db()<{ relname: string; privileges: string[] }[]>`
      select c.relname, coalesce(array_agg(a.privilege_type order by a.privilege_type)
                                   filter (where a.privilege_type is not null), '{}') as privileges
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        left join lateral aclexplode(c.relacl) a on a.grantee = 'service_role'::regrole
       where n.nspname = 'public' and c.relkind = 'r'
       group by c.relname`;
    const columns = await db()<{ column: string; privilege: string }[]>`
      select c.relname || '.' || att.attname as column, a.privilege_type as privilege
        from pg_attribute att
        join pg_class c on c.oid = att.attrelid
        join pg_namespace n on n.oid = c.relnamespace
        cross join lateral aclexplode(att.attacl) a
       where n.nspname = 'public' and a.grantee = 'service_role'::regrole`;
    const crud = ["DELETE", "INSERT", "SELECT", "UPDATE"];
    expect(Object.fromEntries(granted.map((t) => [t.relname, t.privileges]))).toEqual({
      workspaces: ["SELECT"],
      api_keys: ["INSERT", "SELECT", "UPDATE"],
      rate_limit_counters: ["INSERT", "SELECT", "UPDATE"],
      campaigns: crud,
      webhook_endpoints: ["INSERT", "SELECT", "UPDATE"],
      webhook_events: ["DELETE", "INSERT", "SELECT"],
      webhook_deliveries: crud,
      webhook_attempts: ["DELETE", "INSERT", "SELECT"],
      idempotency_keys: crud,
      // npm run deploy's record of what it deployed, read and written as the owner.
      function_deployments: [],
      // gateway_operation's generator reads which operations there are.
      gateway_operations: ["SELECT"],
    });
    expect(columns).toEqual([{ column: "workspaces.name", privilege: "UPDATE" }]);
  });

  it("every function in public pins search_path and is executable by service_role only", async () => {
    const functions = await db()`
      select p.oid::regprocedure::text as name, p.proconfig,
             has_function_privilege('service_role', p.oid, 'execute') as service_role,
             has_function_privilege('anon', p.oid, 'execute') as anon,
             has_function_privilege('authenticated', p.oid, 'execute') as authenticated
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public'`;
    expect(functions.length).toBeGreaterThanOrEqual(20);
    for (const f of functions) {
      expect(f.proconfig, f.name).toContain('search_path=""');
      expect(f, f.name).toMatchObject({ service_role: true, anon: false, authenticated: false });
    }
  });

  it("supabase db advisors finds nothing at warn level or above", async () => {
    const cli = path.join(PROJECT_ROOT, "node_modules", ".bin", "supabase");
    // --fail-on makes the CLI exit non-zero (so execFile rejects) on any finding.
    const { stdout } = await run(cli, [
      "db",
      "advisors",
      "--db-url",
      `${databaseUrl()}?sslmode=disable`,
      "--level",
      "warn",
      "--fail-on",
      "warn",
    ], { cwd: PROJECT_ROOT });
    expect(stdout).not.toContain('"name"');
  });
});
