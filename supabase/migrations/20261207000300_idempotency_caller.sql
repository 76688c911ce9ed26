-- Idempotent replays are authorised like the request that stored them (issue 17).
--
-- A stored answer belongs to the workspace AND the API key that made the first request. Stripe scopes its keys to
-- the account and mode, the boundary within which its own checks are the same for every caller; here two keys of
-- one workspace can hold different permissions and tiers, so the key is that boundary. The workspace stays in the
-- primary key, so another key's repeat finds the row and is told `idempotency_key_reused` (422) instead of running
-- again: it is a different request, and the contract (api.md 3a) says so.
--
-- Rows stored before this migration name no key. They get the nil id, which no key has, so every repeat of them is
-- 422 until they age out (24 hours); their results are dropped, since nobody may read them again, and with them
-- the webhook secrets create and rotate stored in clear.
alter table public.idempotency_keys add column api_key_id uuid;
update public.idempotency_keys set api_key_id = '00000000-0000-0000-0000-000000000000', result = null, sealed = null;
alter table public.idempotency_keys alter column api_key_id set not null;

-- Exactly what the RPCs do with the table (idempotency_claim: insert, select, delete; gateway_run: update;
-- prune_idempotency_keys: select, delete). The table was created after 20261130000100, so the hosted default
-- privileges had left TRUNCATE, REFERENCES, TRIGGER and MAINTAIN with service_role.
revoke all on public.idempotency_keys from service_role;
grant select, insert, update, delete on public.idempotency_keys to service_role;

drop function public.idempotency_claim(uuid, bytea, bytea, text, timestamptz);

-- As in 20261201000200, recording the key that claims: a live row answers whoever asks, and gateway_run decides
-- whether that caller may have it.
create function public.idempotency_claim(p_workspace_id uuid, p_api_key_id uuid, p_key_hash bytea,
                                         p_fingerprint bytea, p_sealed text, p_now timestamptz)
returns public.idempotency_keys
language plpgsql volatile
set search_path = ''
as $$
declare
  existing public.idempotency_keys;
begin
  for attempt in 1..3 loop
    insert into public.idempotency_keys (workspace_id, api_key_id, key_hash, fingerprint, sealed, created_at)
    values (p_workspace_id, p_api_key_id, p_key_hash, p_fingerprint, p_sealed, p_now)
    on conflict do nothing;
    if found then
      return null;
    end if;
    select * into existing from public.idempotency_keys
     where workspace_id = p_workspace_id and key_hash = p_key_hash;
    if found and existing.created_at > p_now - public.idempotency_window() then
      return existing;
    end if;
    delete from public.idempotency_keys
     where workspace_id = p_workspace_id and key_hash = p_key_hash
       and created_at <= p_now - public.idempotency_window();
  end loop;
  raise exception 'idempotency key could not be claimed';
end;
$$;

-- As in 20261201000200, but a live row is replayed only to the key that stored it and only for the same request;
-- anything else is {idempotency: "reused"} (422) and runs nothing.
create or replace function public.gateway_run(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb,
                                              p_idempotency jsonb, p_now timestamptz)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  claim_key bytea := decode(p_idempotency ->> 'key_hash', 'hex');
  stored public.idempotency_keys;
  op_result json;
begin
  if p_idempotency is not null then
    stored := public.idempotency_claim(p_workspace_id, p_key_id, claim_key,
      decode(p_idempotency ->> 'fingerprint', 'hex'), p_idempotency ->> 'sealed', p_now);
    if stored.workspace_id is not null then
      if stored.api_key_id <> p_key_id or stored.fingerprint <> decode(p_idempotency ->> 'fingerprint', 'hex') then
        return json_build_object('idempotency', 'reused');
      end if;
      return json_build_object('result', stored.result, 'replayed', true, 'sealed', stored.sealed);
    end if;
  end if;
  op_result := public.gateway_operation(p_rpc, p_workspace_id, p_key_id, p_args);
  if p_idempotency is not null then
    update public.idempotency_keys i set result = op_result
     where i.workspace_id = p_workspace_id and i.key_hash = claim_key;
  end if;
  return json_build_object('result', op_result);
end;
$$;

-- The webhook as created or rotated, without its secret: the caller chose the secret and shows it itself, so the
-- result gateway_run stores for a replay holds no secret in clear (the gateway seals it, like a new API key).
-- Creation is refused once the workspace has webhook_endpoint_limit endpoints (20261207000200); the workspace row
-- lock makes two racing registrations count each other.
create or replace function public.create_webhook(p_workspace_id uuid, p_fields jsonb, p_secret text)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
  endpoint_limit integer;
  violated text;
begin
  select webhook_endpoint_limit into endpoint_limit from public.workspaces where id = p_workspace_id
    for no key update;
  if (select count(*) from public.webhook_endpoints where workspace_id = p_workspace_id and deleted_at is null)
     >= endpoint_limit then
    return json_build_object('outcome', 'limit_reached', 'limit', endpoint_limit);
  end if;
  insert into public.webhook_endpoints (workspace_id, url, events, description, active, secret)
  values (p_workspace_id, p_fields ->> 'url', array(select jsonb_array_elements_text(p_fields -> 'events')),
          p_fields ->> 'description', coalesce((p_fields ->> 'active')::boolean, true), p_secret)
  returning * into e;
  return json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e));
exception when unique_violation then
  get stacked diagnostics violated = constraint_name;
  if violated is distinct from 'webhook_endpoints_url_idx' then
    raise;
  end if;
  return json_build_object('outcome', 'duplicate');
end;
$$;

create or replace function public.rotate_webhook_secret(
  p_workspace_id uuid, p_id uuid, p_secret text, p_overlap_seconds integer)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
begin
  update public.webhook_endpoints set
    previous_secret = case when p_overlap_seconds > 0 then secret end,
    previous_secret_expires_at = case when p_overlap_seconds > 0
                                      then now() + make_interval(secs => p_overlap_seconds) end,
    secret = p_secret,
    updated_at = now()
  where id = p_id and workspace_id = p_workspace_id and deleted_at is null
  returning * into e;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  return json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e));
end;
$$;

revoke execute on function public.idempotency_claim(uuid, uuid, bytea, bytea, text, timestamptz)
  from public, anon, authenticated;
grant execute on function public.idempotency_claim(uuid, uuid, bytea, bytea, text, timestamptz) to service_role;
