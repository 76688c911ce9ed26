-- resolve_api_key also describes both windows (the IETF RateLimit-Policy / RateLimit fields need the minute window
-- too, and seconds to each reset on the database's clock, the one the counting uses). The day window's
-- limit/remaining/reset stay as they were for X-RateLimit-*. Same signature, so existing grants are kept.
create or replace function public.resolve_api_key(p_key_hash text)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
  k record;
  lim record;
  now_ts timestamptz := clock_timestamp();
  today date := (now_ts at time zone 'UTC')::date;
  this_minute timestamptz := date_trunc('minute', now_ts);
  next_minute timestamptz := this_minute + interval '1 minute';
  next_day timestamptz := ((today + 1)::timestamp at time zone 'UTC');
  counted record;
  was_counted boolean := false;
  current_row public.rate_limit_counters;
  day_used integer;
  minute_used integer;
  day_exceeded boolean;
  reset_at timestamptz;
  windows jsonb;
begin
  select a.id, a.workspace_id, a.prefix, a.permissions, a.rate_limit_tier, a.last_used_at, w.plan
    into k
    from public.api_keys a
    join public.workspaces w on w.id = a.workspace_id
   where a.key_hash = decode(p_key_hash, 'hex')
     and a.revoked_at is null
     and (a.expires_at is null or a.expires_at > now_ts);
  if not found then
    return jsonb_build_object('outcome', 'invalid_key');
  end if;

  -- Stamping every request would make the key row a hot spot; minute precision is plenty for "last used".
  if k.last_used_at is null or k.last_used_at < now_ts - interval '1 minute' then
    update public.api_keys set last_used_at = now_ts where id = k.id;
  end if;

  if k.rate_limit_tier = 'unmetered' then
    return jsonb_build_object('outcome', 'ok', 'workspace_id', k.workspace_id, 'key_id', k.id,
      'key_prefix', k.prefix, 'permissions', to_jsonb(k.permissions), 'rate_limit', null);
  end if;

  select * into lim from public.plan_limits(k.plan, k.rate_limit_tier);

  -- A workspace already over a limit is refused from a plain read, without locking or writing the counter row, so
  -- a flood of refused requests cannot queue behind it. Counts only grow within a window, so this never refuses
  -- wrongly; requests that pass it are counted (or refused, having lost the last slot) by the locked upsert.
  select * into current_row from public.rate_limit_counters where workspace_id = k.workspace_id;
  if not (found and ((current_row.day_start = today and current_row.day_count >= lim.per_day)
                     or (current_row.minute_start = this_minute and current_row.minute_count >= lim.per_minute))) then
    insert into public.rate_limit_counters as r (workspace_id, day_start, day_count, minute_start, minute_count)
    values (k.workspace_id, today, 1, this_minute, 1)
    on conflict (workspace_id) do update set
      day_count = case when r.day_start = excluded.day_start then r.day_count + 1 else 1 end,
      day_start = excluded.day_start,
      minute_count = case when r.minute_start = excluded.minute_start then r.minute_count + 1 else 1 end,
      minute_start = excluded.minute_start
    where (r.day_start <> excluded.day_start or r.day_count < lim.per_day)
      and (r.minute_start <> excluded.minute_start or r.minute_count < lim.per_minute)
    returning r.day_count, r.minute_count into counted;

    if found then
      was_counted := true;
      day_used := counted.day_count;
      minute_used := counted.minute_count;
    else
      select * into current_row from public.rate_limit_counters where workspace_id = k.workspace_id;
    end if;
  end if;

  if day_used is null then
    day_used := case when current_row.day_start = today then current_row.day_count else 0 end;
    minute_used := case when current_row.minute_start = this_minute then current_row.minute_count else 0 end;
  end if;

  -- Both windows, each with its quota, length, what is left after this request and whole seconds to its reset.
  windows := jsonb_build_array(
    jsonb_build_object('name', 'day', 'quota', lim.per_day, 'seconds', 86400,
      'remaining', greatest(lim.per_day - day_used, 0),
      'reset_in', greatest(ceil(extract(epoch from next_day - now_ts)), 1)::integer),
    jsonb_build_object('name', 'minute', 'quota', lim.per_minute, 'seconds', 60,
      'remaining', greatest(lim.per_minute - minute_used, 0),
      'reset_in', greatest(ceil(extract(epoch from next_minute - now_ts)), 1)::integer));

  if was_counted then
    return jsonb_build_object('outcome', 'ok', 'workspace_id', k.workspace_id, 'key_id', k.id,
      'key_prefix', k.prefix, 'permissions', to_jsonb(k.permissions),
      'rate_limit', jsonb_build_object('limit', lim.per_day, 'remaining', lim.per_day - counted.day_count,
        'reset', extract(epoch from next_day)::bigint, 'windows', windows));
  end if;

  day_exceeded := day_used >= lim.per_day;
  reset_at := case when day_exceeded then next_day else next_minute end;
  return jsonb_build_object('outcome', 'rate_limited', 'workspace_id', k.workspace_id, 'key_prefix', k.prefix,
    'rate_limit', jsonb_build_object('limit', lim.per_day,
      'remaining', case when day_exceeded then 0 else greatest(lim.per_day - day_used, 0) end,
      'reset', extract(epoch from next_day)::bigint, 'windows', windows),
    'reset_at', to_char(reset_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'retry_after', greatest(ceil(extract(epoch from reset_at - now_ts)), 1)::integer);
end;
$$;
