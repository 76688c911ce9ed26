-- Grants that hold on a Supabase project created today. Such a project grants nothing by default on new tables,
-- sequences and functions in public to anon, authenticated or service_role (supabase/cli, db/start/start.go,
-- RevokeDefaultDataApiPrivilegesSql). The functions run as service_role through PostgREST and are SECURITY
-- INVOKER, so until now every RPC that touches a table failed there with 42501: BYPASSRLS skips policies, not
-- privileges.
--
-- Why service_role gets grants rather than the functions becoming SECURITY DEFINER: service_role is the
-- platform's admin key; it already bypasses RLS, and only the functions' secret key holds it. SECURITY DEFINER
-- would need an owner role with these same table privileges, plus care with every search_path, and each definer
-- function is one more thing `supabase db advisors` (splinter) watches for being reachable by anon or
-- authenticated; it would not narrow what a holder of the service_role key can do, since that key may call every
-- RPC anyway. So the functions stay invokers and service_role gets, table by table, only the operations the RPCs
-- perform (from migrations 20261128000100 to 20261128000600):
--
--   workspaces           select; update on one column only, because SELECT ... FOR NO KEY UPDATE (the per-
--                        workspace serialisation in create_api_key and revoke_api_key) needs UPDATE on at least
--                        one column. No RPC writes a workspace (the operator CLI does, as postgres).
--   api_keys             select, insert, update (resolve_api_key stamps last_used_at, create_api_key inserts,
--                        revoke_api_key stamps revoked_at).
--   rate_limit_counters  select, insert, update (resolve_api_key's upsert).
--   campaigns            select, insert, update, delete.
--   webhook_endpoints    select, insert, update (deletion is soft: an update; FOR SHARE needs UPDATE too).
--   webhook_events       select, insert.
--   webhook_deliveries   select, insert, update.
--   webhook_attempts     select, insert.
--
-- No sequence is granted: the only one, webhook_attempts_id_seq, backs an identity column, and Postgres does not
-- check sequence privileges for identity columns (the hosted-defaults test inserts attempts as service_role).
-- Foreign-key checks and ON DELETE CASCADE run as the table owner and need nothing either. Functions were
-- already revoked from PUBLIC and granted to service_role by the migrations that created them.
--
-- Whatever an earlier default or grant left (older projects, and databases bootstrapped before the local
-- bootstrap mirrored today's defaults: full table grants to service_role, every sequence to anon and
-- authenticated), is revoked first, so every database ends up with exactly these privileges.

revoke all on all tables in schema public from anon, authenticated, service_role;
revoke all on all sequences in schema public from anon, authenticated, service_role;
revoke all on all functions in schema public from public, anon, authenticated;

grant select, update (name) on public.workspaces to service_role;
grant select, insert, update on public.api_keys to service_role;
grant select, insert, update on public.rate_limit_counters to service_role;
grant select, insert, update, delete on public.campaigns to service_role;
grant select, insert, update on public.webhook_endpoints to service_role;
grant select, insert on public.webhook_events to service_role;
grant select, insert, update on public.webhook_deliveries to service_role;
grant select, insert on public.webhook_attempts to service_role;
