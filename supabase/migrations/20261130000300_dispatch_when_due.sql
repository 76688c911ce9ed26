-- The webhook-dispatcher is invoked only when there is something to send. pg_cron still looks every 5 seconds,
-- but the look is one index probe in the database; it posts to the function (an Edge Function invocation, which
-- is billed) only when a delivery is due. An idle project costs no invocations; before this it cost one every 5 s,
-- ~535k a month. The job's run log (cron.job_run_details, one row per look: 17,280 a day) is pruned to a day.

-- Whether the dispatcher would find work now: a pending delivery that is due and not leased. EXISTS stops at the
-- first such row of webhook_deliveries_due_idx (next_attempt_at, where status = 'pending'), so the probe costs
-- the same with an empty outbox or a long history. Rows leased by a running drain do not count: that drain
-- already holds them.
create function public.webhook_delivery_due()
returns boolean
language sql stable
set search_path = ''
as $$
  select exists (
    select 1
      from public.webhook_deliveries d
     where d.status = 'pending'
       and d.next_attempt_at <= now()
       and (d.lease_expires_at is null or d.lease_expires_at <= now()))
$$;

revoke execute on function public.webhook_delivery_due() from public, anon, authenticated;
grant execute on function public.webhook_delivery_due() to service_role;

-- Rescheduling, where 20261128000500_webhook_dispatch.sql scheduled the job; skipped where it was skipped
-- (vanilla Postgres, the local runner, which has no pg_cron, pg_net or Vault). cron.schedule with a job name that
-- exists replaces that job's schedule and command (pg_cron src/job_metadata.c: "on conflict on constraint
-- jobname_username_uniq do update"), so this changes the landed job in place and re-running it is harmless.
do $do$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron')
     or not exists (select 1 from pg_extension where extname = 'pg_net')
     or not exists (select 1 from pg_namespace where nspname = 'vault') then
    raise notice 'pg_cron, pg_net or vault is missing: the webhook dispatcher is not scheduled';
    return;
  end if;

  -- The conditions reference no rows, so they become one filter evaluated once; CASE makes the due check go
  -- first (the planner would put the cheaper-looking Vault lookups first), so when nothing is due Vault is not
  -- even read. The function answers 202 at once, hence the short timeout.
  perform cron.schedule('webhook-dispatcher', '5 seconds', $job$
    select net.http_post(
             url := s.project_url || '/functions/v1/webhook-dispatcher',
             headers := jsonb_build_object('Content-Type', 'application/json',
                                           'Authorization', 'Bearer ' || s.dispatcher_secret),
             body := '{}'::jsonb,
             timeout_milliseconds := 5000)
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') as project_url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'dispatcher_secret')
                     as dispatcher_secret) as s
     where case when public.webhook_delivery_due()
                then s.project_url is not null and s.dispatcher_secret is not null end
  $job$);

  -- pg_cron never cleans its run log (its README, "Reviewing the cron.job_run_details table"). Hourly, delete
  -- these two jobs' runs older than a day, at most 50,000 a time, oldest first: a steady 720 an hour, and a log
  -- grown large before this migration is worked off in bounded steps instead of one long delete.
  perform cron.schedule('webhook-dispatcher-prune-run-log', '17 * * * *', $job$
    delete from cron.job_run_details
     where runid in (
       select r.runid
         from cron.job_run_details r
        where r.jobid in (select j.jobid from cron.job j
                           where j.jobname in ('webhook-dispatcher', 'webhook-dispatcher-prune-run-log'))
          and coalesce(r.end_time, r.start_time) < now() - interval '1 day'
        order by r.runid
        limit 50000)
  $job$);
end
$do$;
