-- Retention of the webhook history, and fanning the dispatcher out over a large backlog.

-- Deletes webhook history older than p_keep_days: attempts, then finished deliveries (never a pending one, nor
-- the attempts of one), then events no delivery refers to any more. Each statement deletes at most p_batch rows
-- chosen by primary key from an age index, so no statement holds its locks for long; p_rounds such rounds at
-- most, so one run is bounded too and a large backlog is worked off over several runs. Called by pg_cron (below)
-- and by the local runner (scripts/local/retention.ts), both as the database owner; service_role may call it too.
-- Returns {"attempts": n, "deliveries": n, "events": n}.
create function public.prune_webhook_history(p_keep_days integer, p_batch integer, p_rounds integer)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  cutoff timestamptz := now() - make_interval(days => p_keep_days);
  n_attempts bigint := 0;
  n_deliveries bigint := 0;
  n_events bigint := 0;
  deleted bigint;
  progress bigint;
begin
  for round in 1..p_rounds loop
    progress := 0;
    delete from public.webhook_attempts
     where id in (select a.id
                    from public.webhook_attempts a
                    join public.webhook_deliveries d on d.id = a.delivery_id
                   where a.created_at < cutoff and d.status <> 'pending'
                   order by a.created_at
                   limit p_batch);
    get diagnostics deleted = row_count;
    n_attempts := n_attempts + deleted;
    progress := progress + deleted;

    delete from public.webhook_deliveries
     where id in (select d.id
                    from public.webhook_deliveries d
                   where d.created_at < cutoff and d.status <> 'pending'
                   order by d.created_at
                   limit p_batch);
    get diagnostics deleted = row_count;
    n_deliveries := n_deliveries + deleted;
    progress := progress + deleted;

    delete from public.webhook_events
     where id in (select ev.id
                    from public.webhook_events ev
                   where ev.occurred_at < cutoff
                     and not exists (select 1 from public.webhook_deliveries d where d.event_id = ev.id)
                   order by ev.occurred_at
                   limit p_batch);
    get diagnostics deleted = row_count;
    n_events := n_events + deleted;
    progress := progress + deleted;
    exit when progress = 0;
  end loop;
  return json_build_object('attempts', n_attempts, 'deliveries', n_deliveries, 'events', n_events);
end;
$$;

-- How many dispatcher invocations the backlog justifies now: one per p_per_invocation due deliveries (the CPU
-- budget of one drain, services.ts), at least one when anything is due, at most p_max. The count stops at
-- p_per_invocation * p_max rows of webhook_deliveries_due_idx, so it costs the same for any backlog beyond that.
create function public.webhook_dispatch_fan_out(p_per_invocation integer, p_max integer)
returns integer
language sql stable
set search_path = ''
as $$
  select ceil(count(*)::numeric / p_per_invocation)::integer
    from (select 1
            from public.webhook_deliveries d
           where d.status = 'pending'
             and d.next_attempt_at <= now()
             and (d.lease_expires_at is null or d.lease_expires_at <= now())
           limit p_per_invocation * p_max) as due
$$;

revoke execute on function
  public.prune_webhook_history(integer, integer, integer), public.webhook_dispatch_fan_out(integer, integer)
  from public, anon, authenticated;
grant execute on function
  public.prune_webhook_history(integer, integer, integer), public.webhook_dispatch_fan_out(integer, integer)
  to service_role;
-- What prune_webhook_history needs beyond 20261130000100_service_role_grants.sql when service_role runs it.
grant delete on public.webhook_events, public.webhook_deliveries, public.webhook_attempts to service_role;

-- Production scheduling, where 20261130000300_dispatch_when_due.sql scheduled the dispatcher, and skipped where it
-- was skipped (vanilla Postgres, the local runner). The dispatcher job now posts once per 250 due deliveries, up
-- to 4 posts every 5 s; each invocation stays within its own CPU budget, and each drain that stops on its budget
-- still hands over to one fresh invocation. Retention runs every 10 minutes: at most 4 rounds of 5,000 rows per
-- table, keeping 30 days (to keep another number, schedule 'webhook-retention' again with it).
do $do$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron') then
    raise notice 'pg_cron is missing: webhook retention is not scheduled';
    return;
  end if;
  perform cron.schedule('webhook-retention', '*/10 * * * *', $job$
    select public.prune_webhook_history(30, 5000, 4)
  $job$);

  if not exists (select 1 from pg_extension where extname = 'pg_net')
     or not exists (select 1 from pg_namespace where nspname = 'vault') then
    raise notice 'pg_net or vault is missing: the webhook dispatcher is not scheduled';
    return;
  end if;
  -- As in 20261130000300: the due check goes first, so an idle project reads neither Vault nor posts anything.
  perform cron.schedule('webhook-dispatcher', '5 seconds', $job$
    select net.http_post(
             url := s.project_url || '/functions/v1/webhook-dispatcher',
             headers := jsonb_build_object('Content-Type', 'application/json',
                                           'Authorization', 'Bearer ' || s.dispatcher_secret),
             body := '{}'::jsonb,
             timeout_milliseconds := 5000)
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') as project_url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'dispatcher_secret')
                     as dispatcher_secret) as s,
           generate_series(1, case when public.webhook_delivery_due()
                                   then public.webhook_dispatch_fan_out(250, 4) else 0 end)
     where s.project_url is not null and s.dispatcher_secret is not null
  $job$);
end
$do$;
