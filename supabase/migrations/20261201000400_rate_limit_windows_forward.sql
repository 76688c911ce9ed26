-- A request is counted after its operation (20261201000100), with the time gateway_request began. When a minute
-- or a day ends while the operation runs (a wait on a lock, on an Idempotency-Key), a request that began in the
-- old window can reach the counter after requests of the new one. As written, its upsert then moved the window
-- back and restarted it at 1: what the new window had counted was lost, and the next request moved it forward
-- again at 1, so a busy workspace got extra requests at every boundary. Now a window only moves forward: a late
-- request counts in the row's newer window, and is held to that window's limit.
create or replace function public.rate_limit_count(p_workspace_id uuid, p_per_day integer, p_per_minute integer,
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
    day_count = case when r.day_start >= excluded.day_start then r.day_count + 1 else 1 end,
    day_start = greatest(r.day_start, excluded.day_start),
    minute_count = case when r.minute_start >= excluded.minute_start then r.minute_count + 1 else 1 end,
    minute_start = greatest(r.minute_start, excluded.minute_start)
  where (r.day_start < excluded.day_start or r.day_count < p_per_day)
    and (r.minute_start < excluded.minute_start or r.minute_count < p_per_minute)
  returning r.day_count, r.minute_count into counted;
  if found then
    return public.rate_limit_answer(p_per_day, p_per_minute, counted.day_count, counted.minute_count, false, p_now);
  end if;
  select * into u from public.rate_limit_usage(p_workspace_id, p_now);
  return public.rate_limit_answer(p_per_day, p_per_minute, u.day_used, u.minute_used, true, p_now);
end;
$$;
