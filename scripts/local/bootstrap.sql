-- What a Supabase project created today holds before any migration runs, for a vanilla Postgres: the Data API
-- roles, the extensions schema, and default privileges on public that grant nothing to those roles. Mirroring
-- the hosted defaults means a migration that forgets a grant fails here (42501) instead of in production.
-- Taken from the Supabase CLI source (github.com/supabase/cli, apps/cli-go/internal/...):
--   utils/templates/globals.sql               the roles and their attributes (service_role bypasses RLS);
--   utils/templates/initial_schemas/14.sql    schema extensions, USAGE on public and extensions for the three
--                                              roles, and the image's default privileges: ALTER DEFAULT PRIVILEGES
--                                              FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES, SEQUENCES,
--                                              FUNCTIONS TO postgres, anon, authenticated, service_role;
--   db/start/start.go RevokeDefaultDataApiPrivilegesSql, "the SQL that Studio runs at cloud project creation",
--                                              copied verbatim below: it takes those grants back.
-- Note what that leaves, as on a hosted project: TRUNCATE, REFERENCES and TRIGGER on new tables and UPDATE on new
-- sequences stay granted to the three roles, and functions stay executable by PUBLIC; migrations revoke them.
-- `authenticator` (the role PostgREST logs in as) is left out: nothing here logs in as it.
--
-- Idempotent: runs on every `npm start` and test run, also on databases bootstrapped by the earlier version of
-- this file (which granted everything by default): granting and then revoking lands on the same defaults.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

create schema if not exists extensions;
grant usage on schema public, extensions to anon, authenticated, service_role;

-- The image's defaults (initial_schemas/14.sql).
alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;

-- RevokeDefaultDataApiPrivilegesSql (db/start/start.go).
alter default privileges for role postgres in schema public
  revoke select, insert, update, delete on tables from anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  revoke usage, select on sequences from anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  revoke execute on functions from anon, authenticated, service_role;
