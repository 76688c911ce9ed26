-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header; Stripe where the draft is silent) on every POST,
-- PATCH and DELETE. gateway_request claims the key in the same transaction as the operation and stores the
-- operation's result with it, so a retry after a lost response gets the first answer, rendered by the same route
-- code from the same result, and nothing runs twice.
--
-- Only hashes are kept: SHA-256 of the key (the key itself also seals a secret the response needs, see `sealed`),
-- and of the request (method, operation, path ids, canonical body) to tell a retry from a reuse.
create table public.idempotency_keys (
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  key_hash bytea not null check (octet_length(key_hash) = 32),
  fingerprint bytea not null check (octet_length(fingerprint) = 32),
  -- The operation's RPC result as it returned it (json keeps its text, so a replay renders byte for byte).
  result json,
  -- What the response needs beyond the result and the database must not keep in clear (a created API key),
  -- AES-256-GCM under a key derived from the Idempotency-Key, which only the client holds.
  sealed text,
  created_at timestamptz not null default now(),
  primary key (workspace_id, key_hash)
);
create index idempotency_keys_created_at_idx on public.idempotency_keys (created_at);
alter table public.idempotency_keys enable row level security;
revoke all on public.idempotency_keys from anon, authenticated;
grant select, insert, update, delete on public.idempotency_keys to service_role;

-- How long a key is remembered (docs/api-behaviour.md, "Idempotency"): an older row is never replayed, and retention deletes it.
create function public.idempotency_window()
returns interval
language sql immutable
set search_path = ''
as $$ select interval '24 hours' $$;

-- Claims the key for this request, or returns the live row of the request that claimed it first (null: claimed).
-- A concurrent request with the same key waits on the primary key until the first commits, then sees its row and
-- replays it ("wait for the first and replay", so a client never sees 409 for a request that will succeed); if the
-- first rolled back (a 429 after all), the insert goes through and this request runs the operation itself.
-- An expired row is deleted and the key claimed afresh.
create function public.idempotency_claim(p_workspace_id uuid, p_key_hash bytea, p_fingerprint bytea,
                                         p_sealed text, p_now timestamptz)
returns public.idempotency_keys
language plpgsql volatile
set search_path = ''
as $$
declare
  existing public.idempotency_keys;
begin
  for attempt in 1..3 loop
    insert into public.idempotency_keys (workspace_id, key_hash, fingerprint, sealed, created_at)
    values (p_workspace_id, p_key_hash, p_fingerprint, p_sealed, p_now)
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

-- Retention: rows past the window, oldest first, by primary key from the age index, in bounded batches (the
-- webhook history's pattern, 20261130001010). Run with it by pg_cron and by the local runner.
create function public.prune_idempotency_keys(p_batch integer, p_rounds integer)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  cutoff timestamptz := now() - public.idempotency_window();
  total bigint := 0;
  deleted bigint;
begin
  for round in 1..p_rounds loop
    delete from public.idempotency_keys
     where (workspace_id, key_hash) in (select i.workspace_id, i.key_hash
                                          from public.idempotency_keys i
                                         where i.created_at <= cutoff
                                         order by i.created_at
                                         limit p_batch);
    get diagnostics deleted = row_count;
    total := total + deleted;
    exit when deleted < p_batch;
  end loop;
  return json_build_object('idempotency_keys', total);
end;
$$;

-- The permitted operation of one request, with its idempotency: the claim first (p_idempotency: {key_hash,
-- fingerprint (hex SHA-256 each), sealed} or null); a live row with another fingerprint answers
-- {idempotency: "reused"} (422) and runs nothing; one with the same fingerprint answers its stored result with
-- replayed: true and runs nothing (no row changed, no webhook queued). Otherwise the operation runs and its result
-- is stored with the claim. Answer: {result, replayed, sealed, idempotency}, the result's JSON text as stored.
create function public.gateway_run(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb,
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
    stored := public.idempotency_claim(p_workspace_id, claim_key, decode(p_idempotency ->> 'fingerprint', 'hex'),
      p_idempotency ->> 'sealed', p_now);
    if stored.workspace_id is not null then
      if stored.fingerprint <> decode(p_idempotency ->> 'fingerprint', 'hex') then
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

-- gateway_request with the request's idempotency (see gateway_run). The count still comes last: a replay counts
-- like any request, and a request that loses the last slot rolls back its claim with its operation (a 429 stores
-- nothing, as do 401 and 403, refused before the claim). Only a metered request needs that subtransaction; an
-- unmetered one runs its operation without it.
create function public.gateway_request(p_key_hash text, p_permission text, p_rpc text, p_args jsonb,
                                       p_idempotency jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  now_ts timestamptz := clock_timestamp();
  k record;
  lim record;
  metered boolean;
  identity jsonb;
  auth jsonb;
  permitted boolean;
  run json;
begin
  select * into k from public.key_for_request(p_key_hash, now_ts);
  if not found then
    return json_build_object('auth', json_build_object('outcome', 'invalid_key'));
  end if;
  identity := public.key_identity(k.id, k.workspace_id, k.prefix, k.permissions);
  permitted := p_permission = any (k.permissions);
  metered := k.rate_limit_tier <> 'unmetered';
  if metered then
    select * into lim from public.plan_limits(k.plan, k.rate_limit_tier);
    auth := public.rate_limit_precheck(k.workspace_id, lim.per_day, lim.per_minute, now_ts);
  end if;

  if auth is not null then
    null; -- over a window already: 429, not counted
  elsif not metered then
    auth := jsonb_build_object('outcome', 'ok', 'rate_limit', null);
    if permitted and p_rpc is not null then
      run := public.gateway_run(p_rpc, k.workspace_id, k.id, p_args, p_idempotency, now_ts);
    end if;
  elsif not permitted or p_rpc is null then
    auth := public.rate_limit_count(k.workspace_id, lim.per_day, lim.per_minute, now_ts);
  else
    begin
      run := public.gateway_run(p_rpc, k.workspace_id, k.id, p_args, p_idempotency, now_ts);
      auth := public.rate_limit_count(k.workspace_id, lim.per_day, lim.per_minute, now_ts);
      if auth ->> 'outcome' = 'rate_limited' then
        -- Lost the last slot to a concurrent request: undo the claim and the operation; auth keeps the 429.
        raise exception using errcode = 'LL429';
      end if;
    exception when sqlstate 'LL429' then
      run := null;
    end;
  end if;

  perform public.stamp_key_used(k.id, now_ts);
  if auth ->> 'outcome' = 'rate_limited' then
    return json_build_object('auth', identity || auth);
  end if;
  if not permitted or run is null then
    return json_build_object('auth', identity || auth, 'permitted', permitted);
  end if;
  return json_build_object('auth', identity || auth, 'permitted', true, 'result', run -> 'result',
    'replayed', run -> 'replayed', 'sealed', run -> 'sealed', 'idempotency', run -> 'idempotency');
end;
$$;

revoke execute on function
  public.idempotency_window(),
  public.idempotency_claim(uuid, bytea, bytea, text, timestamptz),
  public.prune_idempotency_keys(integer, integer),
  public.gateway_run(text, uuid, uuid, jsonb, jsonb, timestamptz),
  public.gateway_request(text, text, text, jsonb, jsonb)
  from public, anon, authenticated;
grant execute on function
  public.idempotency_window(),
  public.idempotency_claim(uuid, bytea, bytea, text, timestamptz),
  public.prune_idempotency_keys(integer, integer),
  public.gateway_run(text, uuid, uuid, jsonb, jsonb, timestamptz),
  public.gateway_request(text, text, text, jsonb, jsonb)
  to service_role;

-- Production: the retention job prunes the idempotency keys too (same name, so this replaces its command; skipped
-- where pg_cron is missing, as in 20261130001010).
do $do$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is missing: idempotency key retention is not scheduled';
    return;
  end if;
  perform cron.schedule('webhook-retention', '*/10 * * * *', $job$
    select public.prune_webhook_history(30, 5000, 4), public.prune_idempotency_keys(5000, 4)
  $job$);
end
$do$;
