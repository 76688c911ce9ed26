-- API key management RPCs (create, list, revoke) for the gateway's /v1/api-keys routes and the operator CLI.
-- The key itself never reaches the database: callers pass its SHA-256 hash and display prefix.
--
-- Concurrency. Both rules here are about the set of a workspace's *active* keys (not revoked, not expired): a name
-- is unique among them, and at least one of them must keep the admin permission. A partial unique index on
-- (workspace_id, name) where revoked_at is null was considered and rejected: an index predicate must be immutable,
-- so it cannot say "not expired", and an expired key would then hold its name forever (or the RPC would have to
-- mark expired keys revoked, which is not what happened to them and would hide them from the default listing).
-- It could not express the admin rule at all. Instead create_api_key and revoke_api_key serialise on the
-- workspace row and check the rule with a fresh snapshot once they hold it. FOR NO KEY UPDATE conflicts with
-- itself but not with the FOR KEY SHARE that foreign-key inserts take, so campaign and webhook writes of the
-- workspace never wait for it. Key management is rare; serialising it per workspace costs nothing.

alter table public.api_keys
  add constraint api_keys_description_length check (char_length(description) <= 500);

-- Whether a key works: the test resolve_api_key applies, at the transaction's time.
create function public.api_key_is_active(k public.api_keys)
returns boolean
language sql stable
set search_path = ''
as $$ select k.revoked_at is null and (k.expires_at is null or k.expires_at > now()) $$;

-- The key as the API lists it: never the key, never its hash. jsonb so that callers can drop fields with `-`.
create function public.api_key_json(k public.api_keys)
returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', k.id, 'prefix', k.prefix, 'name', k.name, 'description', k.description, 'permissions', k.permissions,
    'rate_limit_tier', k.rate_limit_tier, 'expires_at', public.iso_utc(k.expires_at),
    'last_used_at', public.iso_utc(k.last_used_at), 'revoked_at', public.iso_utc(k.revoked_at),
    'created_at', public.iso_utc(k.created_at))
$$;

-- p_fields holds validated fields (name, description, permissions, rate_limit_tier, expires_at). The name must
-- not be taken by an active key of the workspace; a revoked or expired key's name can be used again.
create function public.create_api_key(p_workspace_id uuid, p_key_hash text, p_prefix text, p_fields jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  k public.api_keys;
begin
  perform 1 from public.workspaces where id = p_workspace_id for no key update;
  if exists (select 1 from public.api_keys a
              where a.workspace_id = p_workspace_id and a.name = p_fields ->> 'name'
                and public.api_key_is_active(a)) then
    return json_build_object('outcome', 'duplicate_name');
  end if;
  insert into public.api_keys (workspace_id, key_hash, prefix, name, description, permissions, rate_limit_tier,
                               expires_at)
  values (p_workspace_id, decode(p_key_hash, 'hex'), p_prefix, p_fields ->> 'name', p_fields ->> 'description',
          array(select jsonb_array_elements_text(p_fields -> 'permissions')), p_fields ->> 'rate_limit_tier',
          (p_fields ->> 'expires_at')::timestamptz)
  returning * into k;
  return json_build_object('outcome', 'ok', 'api_key', public.api_key_json(k) - 'last_used_at' - 'revoked_at');
end;
$$;

-- Newest first. p_page is bigint, as in list_campaigns: any page >= 1 is valid and the offset must not overflow.
create function public.list_api_keys(p_workspace_id uuid, p_include_revoked boolean, p_page bigint, p_per_page integer)
returns json
language sql stable
set search_path = ''
as $$
  select json_build_object(
    'api_keys', coalesce((
      select json_agg(public.api_key_json(k) order by k.created_at desc, k.id desc)
        from (select * from public.api_keys
               where workspace_id = p_workspace_id and (p_include_revoked or revoked_at is null)
               order by created_at desc, id desc
               limit p_per_page offset (p_page - 1) * p_per_page) as k), '[]'::json),
    'total', (select count(*) from public.api_keys
               where workspace_id = p_workspace_id and (p_include_revoked or revoked_at is null)))
$$;

-- Revokes a key unless that would leave the workspace without an active key holding p_admin_permission (the
-- gateway owns the permission's name). An already revoked key is not found. Revoking an expired key is allowed:
-- it holds nothing any more.
create function public.revoke_api_key(p_workspace_id uuid, p_id uuid, p_admin_permission text)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  k public.api_keys;
begin
  perform 1 from public.workspaces where id = p_workspace_id for no key update;
  select * into k from public.api_keys where id = p_id and workspace_id = p_workspace_id and revoked_at is null;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if public.api_key_is_active(k) and p_admin_permission = any (k.permissions)
     and not exists (select 1 from public.api_keys a
                      where a.workspace_id = p_workspace_id and a.id <> p_id and public.api_key_is_active(a)
                        and p_admin_permission = any (a.permissions)) then
    return json_build_object('outcome', 'last_admin_key');
  end if;
  update public.api_keys set revoked_at = now() where id = p_id;
  return json_build_object('outcome', 'ok');
end;
$$;

revoke execute on function
  public.api_key_is_active(public.api_keys), public.api_key_json(public.api_keys),
  public.create_api_key(uuid, text, text, jsonb), public.list_api_keys(uuid, boolean, bigint, integer),
  public.revoke_api_key(uuid, uuid, text)
  from public, anon, authenticated;
grant execute on function
  public.api_key_is_active(public.api_keys), public.api_key_json(public.api_keys),
  public.create_api_key(uuid, text, text, jsonb), public.list_api_keys(uuid, boolean, bigint, integer),
  public.revoke_api_key(uuid, uuid, text)
  to service_role;
