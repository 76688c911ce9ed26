-- Keys made through the API cannot exceed the key that makes them (api.md section 6, key_exceeds_caller), and a
-- revocation may not leave the workspace with only admin keys that expire sooner (last_admin_key).
--
-- The bound lives here, under the workspace lock create_api_key already takes, so it holds for every caller of
-- the RPC and under concurrency (a key's permissions and tier never change after creation; revoking the caller
-- concurrently serialises on the same lock). Operators (the admin CLI, connected as the database owner) pass no
-- creating key and are not bounded; service_role, the role the deployed functions run as, must name one.

-- The tiers from least to most: the order of RATE_LIMIT_TIERS in functions/_shared/auth/api-key-record.ts
-- (tests/api-keys/bounds.test.ts compares them). Null for anything else.
create function public.rate_limit_tier_rank(p_tier text)
returns integer
language sql immutable
set search_path = ''
as $$ select array_position(array['standard', 'high', 'unmetered'], p_tier) - 1 $$;

drop function public.create_api_key(uuid, text, text, jsonb);

-- p_fields holds validated fields (name, description, permissions, rate_limit_tier, expires_at). The name must
-- not be taken by an active key of the workspace; a revoked or expired key's name can be used again.
-- p_creator_key_id is the active key of the workspace making this one: the new key's permissions must be a subset
-- of its permissions, its tier at most its tier and never `unmetered`. Null only for operators.
create function public.create_api_key(p_workspace_id uuid, p_key_hash text, p_prefix text, p_fields jsonb,
                                      p_creator_key_id uuid)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  k public.api_keys;
  creator public.api_keys;
  excess text[];
  tier_exceeds boolean;
  tier text := coalesce(p_fields ->> 'rate_limit_tier', 'standard');
begin
  if p_creator_key_id is null and current_user = 'service_role' then
    raise exception 'create_api_key: service_role must name the creating key' using errcode = '42501';
  end if;
  perform 1 from public.workspaces where id = p_workspace_id for no key update;
  if p_creator_key_id is not null then
    select * into creator from public.api_keys a
     where a.id = p_creator_key_id and a.workspace_id = p_workspace_id and public.api_key_is_active(a);
    if not found then
      return json_build_object('outcome', 'creator_inactive');
    end if;
    excess := array(select distinct p from jsonb_array_elements_text(p_fields -> 'permissions') as p
                     where p <> all (creator.permissions) order by p);
    tier_exceeds := tier = 'unmetered'
                    or public.rate_limit_tier_rank(tier) > public.rate_limit_tier_rank(creator.rate_limit_tier);
    if cardinality(excess) > 0 or tier_exceeds then
      return json_build_object('outcome', 'exceeds_caller', 'permissions', excess, 'tier_exceeds', tier_exceeds,
                               'caller_rate_limit_tier', creator.rate_limit_tier);
    end if;
  end if;
  if exists (select 1 from public.api_keys a
              where a.workspace_id = p_workspace_id and a.name = p_fields ->> 'name'
                and public.api_key_is_active(a)) then
    return json_build_object('outcome', 'duplicate_name');
  end if;
  insert into public.api_keys (workspace_id, key_hash, prefix, name, description, permissions, rate_limit_tier,
                               expires_at)
  values (p_workspace_id, decode(p_key_hash, 'hex'), p_prefix, p_fields ->> 'name', p_fields ->> 'description',
          array(select jsonb_array_elements_text(p_fields -> 'permissions')), tier,
          (p_fields ->> 'expires_at')::timestamptz)
  returning * into k;
  return json_build_object('outcome', 'ok', 'api_key', public.api_key_json(k) - 'last_used_at' - 'revoked_at');
end;
$$;

-- Revokes a key unless that would leave the workspace without an active key holding p_admin_permission that
-- lasts at least as long as this one: another admin key that expires sooner does not count, or revoking a
-- long-lived admin key while only a short-lived one remains would leave the workspace locked out once it lapses.
-- An already revoked key is not found. Revoking an expired key is allowed: it holds nothing any more.
create or replace function public.revoke_api_key(p_workspace_id uuid, p_id uuid, p_admin_permission text)
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
                        and p_admin_permission = any (a.permissions)
                        and (a.expires_at is null or a.expires_at >= k.expires_at)) then
    return json_build_object('outcome', 'last_admin_key');
  end if;
  update public.api_keys set revoked_at = now() where id = p_id;
  return json_build_object('outcome', 'ok');
end;
$$;

revoke execute on function
  public.rate_limit_tier_rank(text), public.create_api_key(uuid, text, text, jsonb, uuid)
  from public, anon, authenticated;
grant execute on function
  public.rate_limit_tier_rank(text), public.create_api_key(uuid, text, text, jsonb, uuid)
  to service_role;
