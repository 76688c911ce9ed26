-- The dispatcher's side of the outbox: claim due deliveries under a lease, record each attempt, and (on Supabase)
-- wake the webhook-dispatcher function every few seconds. A lease, not an open transaction, covers the HTTP call:
-- a dispatcher that dies simply lets its lease run out and the delivery is claimed again (at least once).

-- retry_webhook_delivery starts a failed delivery over at attempt 1, so one delivery's log can hold the same
-- attempt number once per round; record_webhook_attempt's fencing check is what keeps each claim recorded once.
alter table public.webhook_attempts drop constraint webhook_attempts_delivery_id_attempt_key;
create index webhook_attempts_delivery_idx on public.webhook_attempts (delivery_id, attempt);

-- One statement: lock up to p_limit due, unleased, pending deliveries (skipping rows another dispatcher holds),
-- cancel those whose endpoint was deleted or disabled, and lease the rest for p_lease_seconds, counting the
-- attempt. The attempt number returned is the caller's fencing token for record_webhook_attempt.
-- Returns {"cancelled": n, "deliveries": [{delivery_id, attempt, endpoint_id, workspace_id, event, occurred_at,
-- data, url, secret}]}.
create function public.claim_webhook_deliveries(p_limit integer, p_lease_seconds double precision)
returns json
language sql volatile
set search_path = ''
as $$
  with due as (
    select d.id, e.active and e.deleted_at is null as deliverable
      from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id
     where d.status = 'pending'
       and d.next_attempt_at <= now()
       and (d.lease_expires_at is null or d.lease_expires_at <= now())
     order by d.next_attempt_at
     limit p_limit
       for update of d skip locked
  ), cancelled as (
    update public.webhook_deliveries d
       set status = 'cancelled', completed_at = now(), lease_expires_at = null
      from due
     where d.id = due.id and not due.deliverable
    returning d.id
  ), claimed as (
    update public.webhook_deliveries d
       set attempts = d.attempts + 1, lease_expires_at = now() + make_interval(secs => p_lease_seconds)
      from due
     where d.id = due.id and due.deliverable
    returning d.id, d.attempts, d.event_id, d.endpoint_id, d.workspace_id
  )
  select json_build_object(
    'cancelled', (select count(*) from cancelled),
    'deliveries', coalesce(json_agg(json_build_object(
      'delivery_id', c.id, 'attempt', c.attempts, 'endpoint_id', c.endpoint_id, 'workspace_id', c.workspace_id,
      'event', ev.event, 'occurred_at', public.iso_utc(ev.occurred_at), 'data', ev.data,
      'url', e.url, 'secret', e.secret)), '[]'::json))
    from claimed c
    join public.webhook_events ev on ev.id = c.event_id
    join public.webhook_endpoints e on e.id = c.endpoint_id
$$;

-- Records attempt p_attempt of a delivery, but only while the caller still holds it: the delivery is pending and
-- no later claim has taken it (a dispatcher whose lease ran out and was re-claimed gets 'stale' and changes
-- nothing). An attempt without p_error succeeded; a failed one is retried after p_retry_in_ms, or is final when
-- that is null or the endpoint answered 410 Gone, which also disables the endpoint.
-- The attempt row's status is the delivery's status after it: success, pending (retry at next_attempt_at), failed.
-- Returns {"outcome": "success"|"pending"|"failed"|"stale"}.
create function public.record_webhook_attempt(
  p_delivery_id uuid, p_attempt integer, p_status_code integer, p_error text, p_response_body text,
  p_duration_ms integer, p_retry_in_ms integer)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  outcome text := case when p_error is null then 'success'
                       when p_status_code = 410 or p_retry_in_ms is null then 'failed'
                       else 'pending' end;
  retry_at timestamptz := case when outcome = 'pending' then now() + make_interval(secs => p_retry_in_ms / 1000.0) end;
  endpoint uuid;
begin
  update public.webhook_deliveries
     set status = outcome,
         next_attempt_at = coalesce(retry_at, next_attempt_at),
         lease_expires_at = null,
         completed_at = case when outcome = 'pending' then null else now() end
   where id = p_delivery_id and status = 'pending' and attempts = p_attempt
  returning endpoint_id into endpoint;
  if not found then
    return json_build_object('outcome', 'stale');
  end if;

  insert into public.webhook_attempts
    (delivery_id, endpoint_id, attempt, status, status_code, error, response_body, duration_ms, next_attempt_at)
  values (p_delivery_id, endpoint, p_attempt, outcome, p_status_code, p_error, p_response_body, p_duration_ms, retry_at);

  if p_status_code = 410 then
    update public.webhook_endpoints set active = false, updated_at = now() where id = endpoint and active;
  end if;
  return json_build_object('outcome', outcome);
end;
$$;

revoke execute on function
  public.claim_webhook_deliveries(integer, double precision),
  public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer)
  from public, anon, authenticated;
grant execute on function
  public.claim_webhook_deliveries(integer, double precision),
  public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer)
  to service_role;

-- Production scheduling: pg_cron calls the dispatcher every 5 seconds through pg_net, with the project URL and
-- the dispatcher secret read from Vault at each run, so neither sits in this file or in cron.job. Set them once:
--   select vault.create_secret('https://<project-ref>.supabase.co', 'project_url');
--   select vault.create_secret('<DISPATCHER_SECRET>', 'dispatcher_secret');
-- Until both exist the job sends nothing. Where pg_cron, pg_net or Vault are missing (vanilla Postgres, the
-- local runner) this block does nothing; `npm start` drives the dispatcher itself.
do $do$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_cron') then
    create extension if not exists pg_cron with schema pg_catalog;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net with schema extensions;
  end if;
  if not exists (select 1 from pg_extension where extname = 'pg_cron')
     or not exists (select 1 from pg_extension where extname = 'pg_net')
     or not exists (select 1 from pg_namespace where nspname = 'vault') then
    raise notice 'pg_cron, pg_net or vault is missing: the webhook dispatcher is not scheduled';
    return;
  end if;

  -- cron.schedule with an existing name replaces that job, so re-running this stays idempotent.
  perform cron.schedule('webhook-dispatcher', '5 seconds', $job$
    select net.http_post(
             url := s.project_url || '/functions/v1/webhook-dispatcher',
             headers := jsonb_build_object('Content-Type', 'application/json',
                                           'Authorization', 'Bearer ' || s.dispatcher_secret),
             body := '{}'::jsonb,
             timeout_milliseconds := 60000)
      from (select (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') as project_url,
                   (select decrypted_secret from vault.decrypted_secrets where name = 'dispatcher_secret')
                     as dispatcher_secret) as s
     where s.project_url is not null and s.dispatcher_secret is not null
  $job$);
end
$do$;
