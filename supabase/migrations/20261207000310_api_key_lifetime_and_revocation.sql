-- The bounds of 20261130000500 cover lifetime and revocation too (issue 17, api.md section 6): a key made by a key
-- expires no later than its creator (a creator that never expires may mint either), and a key may revoke only
-- keys that exceed it in nothing. Both are checked under the workspace lock the two functions already take, so a
-- concurrent revocation of the caller is seen.

-- How `k` exceeds `caller`, or null when it does not: the permissions it holds that the caller lacks, whether its
-- tier ranks above the caller's, whether it outlives the caller, and both keys' tiers and expiries for the
-- message. p_granting: the key is being made, and the operator-only tier (`unmetered`) is never granted by a key;
-- held, it is simply the highest rank, so an unmetered key may revoke another one.
create function public.api_key_excess(k_permissions text[], k_tier text, k_expires_at timestamptz,
                                      caller public.api_keys, p_granting boolean)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  excess text[] := array(select distinct p from unnest(k_permissions) as p
                          where p <> all (caller.permissions) order by p);
  tier_exceeds boolean := public.rate_limit_tier_rank(k_tier) > public.rate_limit_tier_rank(caller.rate_limit_tier)
                          or (p_granting and k_tier = 'unmetered');
  expires_exceeds boolean := caller.expires_at is not null
                             and (k_expires_at is null or k_expires_at > caller.expires_at);
begin
  if cardinality(excess) = 0 and not tier_exceeds and not expires_exceeds then
    return null;
  end if;
  return jsonb_build_object('permissions', to_jsonb(excess), 'tier_exceeds', tier_exceeds,
    'expires_exceeds', expires_exceeds, 'rate_limit_tier', k_tier, 'expires_at', public.iso_utc(k_expires_at),
    'caller_rate_limit_tier', caller.rate_limit_tier, 'caller_expires_at', public.iso_utc(caller.expires_at));
end;
$$;

-- As in 20261130000500, with the lifetime bound: outcome exceeds_caller carries api_key_excess's fields.
create or replace function public.create_api_key(p_workspace_id uuid, p_key_hash text, p_prefix text,
                                                 p_fields jsonb, p_creator_key_id uuid)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  k public.api_keys;
  creator public.api_keys;
  excess jsonb;
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
    excess := public.api_key_excess(array(select jsonb_array_elements_text(p_fields -> 'permissions')), tier,
                                    (p_fields ->> 'expires_at')::timestamptz, creator, true);
    if excess is not null then
      return (jsonb_build_object('outcome', 'exceeds_caller') || excess)::json;
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

drop function public.revoke_api_key(uuid, uuid, text);

-- As in 20261130000500, revoked by p_revoker_key_id, the calling key (null only for operators): a key it
-- exceeds in nothing (api_key_excess), else outcome exceeds_caller; a revoker revoked or expired meanwhile is
-- creator_inactive. A key never exceeds itself, so a key may always revoke itself.
create function public.revoke_api_key(p_workspace_id uuid, p_id uuid, p_admin_permission text,
                                      p_revoker_key_id uuid)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  k public.api_keys;
  revoker public.api_keys;
  excess jsonb;
begin
  if p_revoker_key_id is null and current_user = 'service_role' then
    raise exception 'revoke_api_key: service_role must name the revoking key' using errcode = '42501';
  end if;
  perform 1 from public.workspaces where id = p_workspace_id for no key update;
  select * into k from public.api_keys where id = p_id and workspace_id = p_workspace_id and revoked_at is null;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if p_revoker_key_id is not null then
    select * into revoker from public.api_keys a
     where a.id = p_revoker_key_id and a.workspace_id = p_workspace_id and public.api_key_is_active(a);
    if not found then
      return json_build_object('outcome', 'creator_inactive');
    end if;
    excess := public.api_key_excess(k.permissions, k.rate_limit_tier, k.expires_at, revoker, false);
    if excess is not null then
      return (jsonb_build_object('outcome', 'exceeds_caller') || excess)::json;
    end if;
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

-- As in 20261201000100, passing the calling key to revoke_api_key too.
create or replace function public.gateway_operation(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  ws uuid := p_workspace_id;
  a jsonb := coalesce(p_args, '{}');
begin
  case p_rpc
    when 'list_api_keys' then
      return public.list_api_keys(ws, (a ->> 'p_include_revoked')::boolean, (a ->> 'p_page')::bigint,
        (a ->> 'p_per_page')::integer);
    when 'create_api_key' then
      return public.create_api_key(ws, a ->> 'p_key_hash', a ->> 'p_prefix', a -> 'p_fields', p_key_id);
    when 'revoke_api_key' then
      return public.revoke_api_key(ws, (a ->> 'p_id')::uuid, a ->> 'p_admin_permission', p_key_id);
    when 'list_campaigns' then
      return public.list_campaigns(ws, a ->> 'p_status', (a ->> 'p_page')::bigint, (a ->> 'p_per_page')::integer);
    when 'get_campaign' then
      return public.get_campaign(ws, (a ->> 'p_id')::uuid);
    when 'create_campaign' then
      return public.create_campaign(ws, a -> 'p_fields');
    when 'update_campaign' then
      return public.update_campaign(ws, (a ->> 'p_id')::uuid, a -> 'p_fields');
    when 'start_campaign' then
      return public.start_campaign(ws, (a ->> 'p_id')::uuid);
    when 'pause_campaign' then
      return public.pause_campaign(ws, (a ->> 'p_id')::uuid);
    when 'delete_campaign' then
      return public.delete_campaign(ws, (a ->> 'p_id')::uuid);
    when 'list_webhooks' then
      return public.list_webhooks(ws, (a ->> 'p_page')::bigint, (a ->> 'p_per_page')::integer);
    when 'get_webhook' then
      return public.get_webhook(ws, (a ->> 'p_id')::uuid);
    when 'create_webhook' then
      return public.create_webhook(ws, a -> 'p_fields', a ->> 'p_secret');
    when 'update_webhook' then
      return public.update_webhook(ws, (a ->> 'p_id')::uuid, a -> 'p_fields');
    when 'delete_webhook' then
      return public.delete_webhook(ws, (a ->> 'p_id')::uuid);
    when 'list_webhook_logs' then
      return public.list_webhook_logs(ws, (a ->> 'p_id')::uuid, a ->> 'p_status', (a ->> 'p_page')::bigint,
        (a ->> 'p_per_page')::integer);
    when 'list_webhook_deliveries' then
      return public.list_webhook_deliveries(ws, (a ->> 'p_id')::uuid, a ->> 'p_status', (a ->> 'p_page')::bigint,
        (a ->> 'p_per_page')::integer);
    when 'get_webhook_delivery' then
      return public.get_webhook_delivery(ws, (a ->> 'p_id')::uuid, (a ->> 'p_delivery_id')::uuid);
    when 'send_test_webhook' then
      return public.send_test_webhook(ws, (a ->> 'p_id')::uuid, a ->> 'p_event');
    when 'retry_webhook_delivery' then
      return public.retry_webhook_delivery(ws, (a ->> 'p_id')::uuid, (a ->> 'p_delivery_id')::uuid);
    when 'recover_webhook_deliveries' then
      return public.recover_webhook_deliveries(ws, (a ->> 'p_id')::uuid, (a ->> 'p_since')::timestamptz,
        (a ->> 'p_until')::timestamptz, (a ->> 'p_dry_run')::boolean);
    when 'rotate_webhook_secret' then
      return public.rotate_webhook_secret(ws, (a ->> 'p_id')::uuid, a ->> 'p_secret',
        (a ->> 'p_overlap_seconds')::integer);
    else
      raise exception using errcode = '22023', message = format('%s is not a gateway operation', p_rpc);
  end case;
end;
$$;

revoke execute on function
  public.api_key_excess(text[], text, timestamptz, public.api_keys, boolean),
  public.revoke_api_key(uuid, uuid, text, uuid)
  from public, anon, authenticated;
grant execute on function
  public.api_key_excess(text[], text, timestamptz, public.api_keys, boolean),
  public.revoke_api_key(uuid, uuid, text, uuid)
  to service_role;
