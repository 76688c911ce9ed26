-- Workspaces, API keys and rate-limit counters, plus the one RPC every authenticated request makes.
-- Every table sits in the PostgREST-exposed schema, so RLS is on with no policies: only service_role
-- (bypassrls) and the owner see rows. Functions pin search_path and are executable by service_role only.

create table public.workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  plan text not null default 'starter' check (plan in ('starter', 'pro', 'org')),
  created_at timestamptz not null default now()
);

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  key_hash bytea not null unique check (octet_length(key_hash) = 32),
  prefix text not null,
  name text not null check (char_length(name) between 1 and 120),
  description text,
  permissions text[] not null default '{}',
  rate_limit_tier text not null default 'standard' check (rate_limit_tier in ('standard', 'high', 'unmetered')),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_at timestamptz not null default now()
);
create index api_keys_workspace_idx on public.api_keys (workspace_id);

-- One row per workspace holding both windows, so one row lock orders every concurrent count.
create table public.rate_limit_counters (
  workspace_id uuid primary key references public.workspaces (id) on delete cascade,
  day_start date not null,
  day_count integer not null,
  minute_start timestamptz not null,
  minute_count integer not null
);

alter table public.workspaces enable row level security;
alter table public.api_keys enable row level security;
alter table public.rate_limit_counters enable row level security;
revoke all on public.workspaces, public.api_keys, public.rate_limit_counters from anon, authenticated;

-- Plan limits from the contract (section 3); 'high' is ten times the plan.
create function public.plan_limits(p_plan text, p_tier text, out per_day integer, out per_minute integer)
language sql immutable
set search_path = ''
as $$
  select l.per_day * m.factor, l.per_minute * m.factor
  from (values ('starter', 100, 10), ('pro', 1000, 50), ('org', 10000, 200)) as l (plan, per_day, per_minute)
  cross join (select case p_tier when 'high' then 10 else 1 end as factor) as m
  where l.plan = p_plan
$$;

-- Resolves a key hash, counts the request against the workspace's windows and returns what the gateway needs.
-- Outcomes: invalid_key | rate_limited | ok. A refused (429) request is not counted.
create function public.resolve_api_key(p_key_hash text)
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
  next_day timestamptz := ((today + 1)::timestamp at time zone 'UTC');
  counted record;
  current_row public.rate_limit_counters;
  day_exceeded boolean;
  reset_at timestamptz;
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
      return jsonb_build_object('outcome', 'ok', 'workspace_id', k.workspace_id, 'key_id', k.id,
        'key_prefix', k.prefix, 'permissions', to_jsonb(k.permissions),
        'rate_limit', jsonb_build_object('limit', lim.per_day, 'remaining', lim.per_day - counted.day_count,
          'reset', extract(epoch from next_day)::bigint));
    end if;
    select * into current_row from public.rate_limit_counters where workspace_id = k.workspace_id;
  end if;

  day_exceeded := current_row.day_start = today and current_row.day_count >= lim.per_day;
  reset_at := case when day_exceeded then next_day else this_minute + interval '1 minute' end;
  return jsonb_build_object('outcome', 'rate_limited', 'workspace_id', k.workspace_id, 'key_prefix', k.prefix,
    'rate_limit', jsonb_build_object('limit', lim.per_day,
      'remaining', case when day_exceeded then 0 else greatest(lim.per_day - current_row.day_count, 0) end,
      'reset', extract(epoch from next_day)::bigint),
    'reset_at', to_char(reset_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'retry_after', greatest(ceil(extract(epoch from reset_at - now_ts)), 1)::integer);
end;
$$;

create function public.health_check()
returns jsonb
language sql stable
set search_path = ''
as $$ select jsonb_build_object('status', 'ok') $$;

revoke execute on function public.plan_limits(text, text), public.resolve_api_key(text), public.health_check()
  from public, anon, authenticated;
-- Helpers too: the RPCs run as their caller, so service_role needs them, whatever the default privileges say.
grant execute on function public.plan_limits(text, text), public.resolve_api_key(text), public.health_check()
  to service_role;
