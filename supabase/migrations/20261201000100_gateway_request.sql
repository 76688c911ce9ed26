-- One database round trip per authenticated request: gateway_request looks the key up, applies the rate limit and
-- the permission, and runs the operation, in one call and so in one transaction, answering in the contract's order
-- (401, 429, 403, then the operation's own outcome).
--
-- The counter row is locked by the conditional upsert from the moment it counts until commit. Counting first and
-- then running the operation would hold that lock for the whole operation, and every request of a busy workspace
-- would queue behind it. So a request is checked against its workspace's counter with a plain read (no lock), the
-- operation runs, and the counting upsert comes LAST. If that upsert loses the workspace's last slot to a
-- concurrent request, the operation is rolled back (a subtransaction) and the answer is the 429 a refusal before
-- it would have given: nothing changed. Limits stay exact: only a request whose upsert succeeded commits anything.
--
-- The pieces resolve_api_key and gateway_request share (the key lookup, the read, the counting upsert, the
-- description of both windows, the last-used stamp) become functions of their own, in PL/pgSQL even where one
-- query would do: a LANGUAGE sql function with a SET clause (`set search_path = ''`, required here) is never
-- inlined, and on Postgres before 18 it plans its query again on every call, about 0.1 ms each (measured
-- server-side on Postgres 17), where PL/pgSQL reuses its cached plan. plan_limits, called on every metered
-- request, is redefined the same way. gateway_request itself, with its idempotency, is in the next migration.

-- The active key a hash names, with its workspace's plan.
create function public.key_for_request(p_key_hash text, p_now timestamptz)
returns table (id uuid, workspace_id uuid, prefix text, permissions text[], rate_limit_tier text,
               last_used_at timestamptz, plan text)
language plpgsql stable
set search_path = ''
as $$
begin
  return query
  select a.id, a.workspace_id, a.prefix, a.permissions, a.rate_limit_tier, a.last_used_at, w.plan
    from public.api_keys a
    join public.workspaces w on w.id = a.workspace_id
   where a.key_hash = decode(p_key_hash, 'hex')
     and a.revoked_at is null
     and (a.expires_at is null or a.expires_at > p_now);
end;
$$;

-- Both windows as the rate-limit headers show them after a request that used p_day_used / p_minute_used, and for a
-- refusal also when to retry (the window that was exceeded). `outcome` is ok or rate_limited.
create function public.rate_limit_answer(p_per_day integer, p_per_minute integer, p_day_used integer,
                                         p_minute_used integer, p_refused boolean, p_now timestamptz)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  next_day timestamptz := (((p_now at time zone 'UTC')::date + 1)::timestamp at time zone 'UTC');
  next_minute timestamptz := date_trunc('minute', p_now) + interval '1 minute';
  reset_at timestamptz := case when p_day_used >= p_per_day then next_day else next_minute end;
  answer jsonb;
begin
  answer := jsonb_build_object(
    'outcome', case when p_refused then 'rate_limited' else 'ok' end,
    'rate_limit', jsonb_build_object('limit', p_per_day, 'remaining', greatest(p_per_day - p_day_used, 0),
      'reset', extract(epoch from next_day)::bigint,
      'windows', jsonb_build_array(
        jsonb_build_object('name', 'day', 'quota', p_per_day, 'seconds', 86400,
          'remaining', greatest(p_per_day - p_day_used, 0),
          'reset_in', greatest(ceil(extract(epoch from next_day - p_now)), 1)::integer),
        jsonb_build_object('name', 'minute', 'quota', p_per_minute, 'seconds', 60,
          'remaining', greatest(p_per_minute - p_minute_used, 0),
          'reset_in', greatest(ceil(extract(epoch from next_minute - p_now)), 1)::integer))));
  if p_refused then
    answer := answer || jsonb_build_object(
      'reset_at', to_char(reset_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'retry_after', greatest(ceil(extract(epoch from reset_at - p_now)), 1)::integer);
  end if;
  return answer;
end;
$$;

-- The workspace's usage in the windows that contain p_now, from a plain read (no lock, no write).
create function public.rate_limit_usage(p_workspace_id uuid, p_now timestamptz,
                                                   out day_used integer, out minute_used integer)
language plpgsql stable
set search_path = ''
as $$
begin
  select coalesce(max(r.day_count) filter (where r.day_start = (p_now at time zone 'UTC')::date), 0),
         coalesce(max(r.minute_count) filter (where r.minute_start = date_trunc('minute', p_now)), 0)
    into day_used, minute_used
    from public.rate_limit_counters r
   where r.workspace_id = p_workspace_id;
end;
$$;

-- The 429 answer for a workspace already over a window, from a plain read; null when it has room. Counts only grow
-- within a window, so this never refuses wrongly, and a flood of refused requests never queues behind the lock.
create function public.rate_limit_precheck(p_workspace_id uuid, p_per_day integer, p_per_minute integer,
                                           p_now timestamptz)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  u record;
begin
  select * into u from public.rate_limit_usage(p_workspace_id, p_now);
  if u.day_used >= p_per_day or u.minute_used >= p_per_minute then
    return public.rate_limit_answer(p_per_day, p_per_minute, u.day_used, u.minute_used, true, p_now);
  end if;
  return null;
end;
$$;

-- Counts one request in both windows, unless that would pass a limit (the one locked write of the counter row,
-- atomic: with L requests left, exactly L of N concurrent ones are counted). The answer is rate_limited when the
-- request lost the last slot, and then counts nothing.
create function public.rate_limit_count(p_workspace_id uuid, p_per_day integer, p_per_minute integer,
                                        p_now timestamptz)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  today date := (p_now at time zone 'UTC')::date;
  this_minute timestamptz := date_trunc('minute', p_now);
  counted record;
  u record;
begin
  insert into public.rate_limit_counters as r (workspace_id, day_start, day_count, minute_start, minute_count)
  values (p_workspace_id, today, 1, this_minute, 1)
  on conflict (workspace_id) do update set
    day_count = case when r.day_start = excluded.day_start then r.day_count + 1 else 1 end,
    day_start = excluded.day_start,
    minute_count = case when r.minute_start = excluded.minute_start then r.minute_count + 1 else 1 end,
    minute_start = excluded.minute_start
  where (r.day_start <> excluded.day_start or r.day_count < p_per_day)
    and (r.minute_start <> excluded.minute_start or r.minute_count < p_per_minute)
  returning r.day_count, r.minute_count into counted;
  if found then
    return public.rate_limit_answer(p_per_day, p_per_minute, counted.day_count, counted.minute_count, false, p_now);
  end if;
  select * into u from public.rate_limit_usage(p_workspace_id, p_now);
  return public.rate_limit_answer(p_per_day, p_per_minute, u.day_used, u.minute_used, true, p_now);
end;
$$;

-- Stamps the key's last use, at most once a minute (the key row is not a hot spot) and never waiting for its lock
-- (a request revoking this key holds it; "last used" can skip a beat, a request must not queue behind it).
create function public.stamp_key_used(p_key_id uuid, p_now timestamptz)
returns void
language plpgsql volatile
set search_path = ''
as $$
begin
  update public.api_keys set last_used_at = p_now
   where id = (select a.id from public.api_keys a
                where a.id = p_key_id
                  and (a.last_used_at is null or a.last_used_at < p_now - interval '1 minute')
                  for update skip locked);
end;
$$;

-- The key part of an answer: who is calling, and (ok) what it may do.
create function public.key_identity(p_id uuid, p_workspace_id uuid, p_prefix text, p_permissions text[])
returns jsonb
language plpgsql immutable
set search_path = ''
as $$
begin
  return jsonb_build_object('workspace_id', p_workspace_id, 'key_id', p_id, 'key_prefix', p_prefix,
                            'permissions', to_jsonb(p_permissions));
end;
$$;

-- Plan limits from the contract (section 3); 'high' is ten times the plan.
create or replace function public.plan_limits(p_plan text, p_tier text, out per_day integer, out per_minute integer)
language plpgsql immutable
set search_path = ''
as $$
begin
  select l.per_day * m.factor, l.per_minute * m.factor
    into per_day, per_minute
    from (values ('starter', 100, 10), ('pro', 1000, 50), ('org', 10000, 200)) as l (plan, per_day, per_minute)
    cross join (select case p_tier when 'high' then 10 else 1 end as factor) as m
   where l.plan = p_plan;
end;
$$;

-- Unchanged answers, now from the shared pieces: resolve then count, as the gateway did before gateway_request
-- (the benchmark's two-call baseline calls it).
create or replace function public.resolve_api_key(p_key_hash text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  now_ts timestamptz := clock_timestamp();
  k record;
  lim record;
  rate jsonb;
begin
  select * into k from public.key_for_request(p_key_hash, now_ts);
  if not found then
    return jsonb_build_object('outcome', 'invalid_key');
  end if;
  perform public.stamp_key_used(k.id, now_ts);
  if k.rate_limit_tier = 'unmetered' then
    return public.key_identity(k.id, k.workspace_id, k.prefix, k.permissions)
      || jsonb_build_object('outcome', 'ok', 'rate_limit', null);
  end if;
  select * into lim from public.plan_limits(k.plan, k.rate_limit_tier);
  rate := coalesce(public.rate_limit_precheck(k.workspace_id, lim.per_day, lim.per_minute, now_ts),
                   public.rate_limit_count(k.workspace_id, lim.per_day, lim.per_minute, now_ts));
  return public.key_identity(k.id, k.workspace_id, k.prefix, k.permissions) || rate;
end;
$$;

-- The operations gateway_request may run, by name: each RPC a route of the gateway calls. The workspace (and,
-- creating a key, the creating key) are the calling key's, whatever p_args says; the rest of the arguments come
-- from p_args. No SQL is built from input. tests/db/gateway-operations.test.ts holds this list against the RPCs
-- the routes call.
create function public.gateway_operation(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb)
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
      return public.revoke_api_key(ws, (a ->> 'p_id')::uuid, a ->> 'p_admin_permission');
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
  public.key_for_request(text, timestamptz),
  public.rate_limit_answer(integer, integer, integer, integer, boolean, timestamptz),
  public.rate_limit_usage(uuid, timestamptz),
  public.rate_limit_precheck(uuid, integer, integer, timestamptz),
  public.rate_limit_count(uuid, integer, integer, timestamptz),
  public.stamp_key_used(uuid, timestamptz),
  public.key_identity(uuid, uuid, text, text[]),
  public.gateway_operation(text, uuid, uuid, jsonb)
  from public, anon, authenticated;
-- The helpers too: the functions are SECURITY INVOKER, so service_role runs them when it runs gateway_request.
grant execute on function
  public.key_for_request(text, timestamptz),
  public.rate_limit_answer(integer, integer, integer, integer, boolean, timestamptz),
  public.rate_limit_usage(uuid, timestamptz),
  public.rate_limit_precheck(uuid, integer, integer, timestamptz),
  public.rate_limit_count(uuid, integer, integer, timestamptz),
  public.stamp_key_used(uuid, timestamptz),
  public.key_identity(uuid, uuid, text, text[]),
  public.gateway_operation(text, uuid, uuid, jsonb)
  to service_role;
