import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local/paths.ts";
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
      "db", "advisors", "--db-url", `${databaseUrl()}?sslmode=disable`, "--level", "warn", "--fail-on", "warn",
    ], { cwd: PROJECT_ROOT });
    expect(stdout).not.toContain('"name"');
  });
});
