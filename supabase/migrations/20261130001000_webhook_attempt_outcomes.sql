-- Webhook delivery, second round: an attempt row's status is that attempt's own outcome, a receiver's Retry-After
-- is honoured, an endpoint failing for days is disabled with a notice, and the dispatcher can fan out.
--
-- Attempt status. Before this migration an attempt row carried the delivery's status after it, so a 500 that was
-- going to be retried was logged `pending` and `GET /v1/webhooks/{id}/logs?status=failed` showed nothing until the
-- last retry was spent. From now on an attempt is `success` or `failed` (`pending` stays allowed by the check
-- constraint for an attempt in flight, which is never written today); the delivery keeps `pending` until its last
-- attempt. Existing rows are rewritten to that meaning: every `pending` attempt row was a failed attempt.
update public.webhook_attempts set status = 'failed' where status = 'pending';

-- Back-pressure. `attempts` stays the claim counter (the fencing token of record_webhook_attempt); spent_attempts
-- counts the attempts spent of the six the schedule allows, and window_ends_at is when the schedule would have
-- tried again after the last spent one. A 429/503 with Retry-After answered while that window is still open does
-- not spend another attempt (functions/_shared/webhooks/retry-schedule.ts decides; api.md section 5 states it).
alter table public.webhook_deliveries
  add column spent_attempts integer not null default 0,
  add column window_ends_at timestamptz;
update public.webhook_deliveries set spent_attempts = attempts where attempts > 0;

-- Auto-disable. failing_since is the time of the first failed attempt after the endpoint's last success (or its
-- last re-enabling); a success clears it. disabled_reason says why the system disabled an endpoint (`gone`: it
-- answered 410; `failing`: every attempt failed for the configured time); null while active or disabled by hand.
alter table public.webhook_endpoints
  add column failing_since timestamptz,
  add column disabled_reason text check (disabled_reason in ('gone', 'failing'));
update public.webhook_endpoints e
   set failing_since = streak.since
  from (select a.endpoint_id, min(a.created_at) as since
          from public.webhook_attempts a
         where a.status = 'failed'
           and a.created_at > coalesce((select max(s.created_at) from public.webhook_attempts s
                                         where s.endpoint_id = a.endpoint_id and s.status = 'success'), '-infinity')
         group by a.endpoint_id) as streak
 where e.id = streak.endpoint_id and e.active and e.deleted_at is null;
update public.webhook_endpoints set disabled_reason = 'gone'
 where not active and deleted_at is null
   and exists (select 1 from public.webhook_attempts a where a.endpoint_id = webhook_endpoints.id and a.status_code = 410);

-- Retention deletes by age, oldest first, in primary-key batches (prune_webhook_history below).
create index webhook_attempts_created_idx on public.webhook_attempts (created_at);
create index webhook_deliveries_created_idx on public.webhook_deliveries (created_at) where status <> 'pending';
create index webhook_events_occurred_idx on public.webhook_events (occurred_at);

create or replace function public.webhook_json(e public.webhook_endpoints)
returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', e.id, 'url', e.url, 'events', e.events, 'description', e.description, 'active', e.active,
    'disabled_reason', case when e.active then null else e.disabled_reason end,
    'created_at', public.iso_utc(e.created_at), 'updated_at', public.iso_utc(e.updated_at))
$$;

-- As in 20261128000400, plus: turning an inactive endpoint active clears disabled_reason and starts its failure
-- streak afresh; turning it inactive by hand leaves no reason.
create or replace function public.update_webhook(p_workspace_id uuid, p_id uuid, p_fields jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
  violated text;
  new_active boolean := (p_fields ->> 'active')::boolean;
begin
  update public.webhook_endpoints set
    url = coalesce(p_fields ->> 'url', url),
    events = case when p_fields ? 'events'
                  then array(select jsonb_array_elements_text(p_fields -> 'events')) else events end,
    description = case when p_fields ? 'description' then p_fields ->> 'description' else description end,
    active = coalesce(new_active, active),
    disabled_reason = case when new_active is not null and new_active <> active then null else disabled_reason end,
    failing_since = case when new_active and not active then null else failing_since end,
    updated_at = now()
  where id = p_id and workspace_id = p_workspace_id and deleted_at is null
  returning * into e;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  return json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e));
exception when unique_violation then
  get stacked diagnostics violated = constraint_name;
  if violated is distinct from 'webhook_endpoints_url_idx' then
    raise;
  end if;
  return json_build_object('outcome', 'duplicate');
end;
$$;

-- As in 20261128000400: a failed delivery starts over, now with its spent attempts and retry window reset too.
create or replace function public.retry_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  current_status text;
begin
  perform 1 from public.webhook_endpoints
    where id = p_id and workspace_id = p_workspace_id and deleted_at is null
    for share;
  if not found then
    return json_build_object('outcome', 'webhook_not_found');
  end if;
  select status into current_status from public.webhook_deliveries
   where id = p_delivery_id and endpoint_id = p_id
   for update;
  if not found then
    return json_build_object('outcome', 'delivery_not_found');
  end if;
  if current_status <> 'failed' then
    return json_build_object('outcome', 'not_failed', 'status', current_status);
  end if;
  update public.webhook_deliveries
     set status = 'pending', attempts = 0, spent_attempts = 0, window_ends_at = null, next_attempt_at = now(),
         lease_expires_at = null, completed_at = null
   where id = p_delivery_id;
  return json_build_object('outcome', 'ok', 'delivery_id', p_delivery_id);
end;
$$;

-- As in 20261128000500, and each claimed delivery also carries `spent` (attempts spent so far) and
-- `window_left_ms` (how long the current retry window stays open, 0 once over, null before the first spent
-- attempt): what the dispatcher's retry decision needs.
create or replace function public.claim_webhook_deliveries(p_limit integer, p_lease_seconds double precision)
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
    returning d.id, d.attempts, d.spent_attempts, d.window_ends_at, d.event_id, d.endpoint_id, d.workspace_id
  )
  select json_build_object(
    'cancelled', (select count(*) from cancelled),
    'deliveries', coalesce(json_agg(json_build_object(
      'delivery_id', c.id, 'attempt', c.attempts, 'spent', c.spent_attempts,
      -- GREATEST ignores nulls, hence the CASE: no window yet is null, not 0.
      'window_left_ms', case when c.window_ends_at is not null
                             then greatest(0, ceil(extract(epoch from c.window_ends_at - now()) * 1000))::bigint end,
      'endpoint_id', c.endpoint_id, 'workspace_id', c.workspace_id,
      'event', ev.event, 'occurred_at', public.iso_utc(ev.occurred_at), 'data', ev.data,
      'url', e.url, 'secret', e.secret)), '[]'::json))
    from claimed c
    join public.webhook_events ev on ev.id = c.event_id
    join public.webhook_endpoints e on e.id = c.endpoint_id
$$;

-- Records attempt p_attempt of a delivery while the caller still holds it (the fencing check of 20261128000500).
-- The attempt row's status is its own outcome: success (no p_error) or failed. The delivery becomes success,
-- failed (p_retry_in_ms null, or a 410 Gone), or stays pending with its next attempt in p_retry_in_ms; the attempt
-- row keeps that time as next_attempt_at. p_spends says whether the attempt spent one of the schedule's attempts,
-- p_window_ms opens a new retry window (both decided by retry-schedule.ts).
-- An endpoint is disabled, with a webhook.endpoint_disabled event to the workspace's other subscribed endpoints,
-- when it answers 410 (reason `gone`) or when its failure streak (failing_since) is p_disable_after_seconds old
-- (reason `failing`). The old seven-argument calls keep working through the defaults.
-- Returns {"outcome": "success"|"pending"|"failed"|"stale", "disabled": null|"gone"|"failing"}.
drop function public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer);
create function public.record_webhook_attempt(
  p_delivery_id uuid, p_attempt integer, p_status_code integer, p_error text, p_response_body text,
  p_duration_ms integer, p_retry_in_ms integer, p_spends boolean default true, p_window_ms integer default null,
  p_disable_after_seconds integer default 432000)
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
  reason text;
  e public.webhook_endpoints;
begin
  update public.webhook_deliveries
     set status = outcome,
         next_attempt_at = coalesce(retry_at, next_attempt_at),
         lease_expires_at = null,
         completed_at = case when outcome = 'pending' then null else now() end,
         spent_attempts = spent_attempts + case when p_spends then 1 else 0 end,
         window_ends_at = case when p_window_ms is null then window_ends_at
                               else now() + make_interval(secs => p_window_ms / 1000.0) end
   where id = p_delivery_id and status = 'pending' and attempts = p_attempt
  returning endpoint_id into endpoint;
  if not found then
    return json_build_object('outcome', 'stale', 'disabled', null);
  end if;

  insert into public.webhook_attempts
    (delivery_id, endpoint_id, attempt, status, status_code, error, response_body, duration_ms, next_attempt_at)
  values (p_delivery_id, endpoint, p_attempt, case when p_error is null then 'success' else 'failed' end,
          p_status_code, p_error, p_response_body, p_duration_ms, retry_at);

  -- Each UPDATE below writes only when something changes, so a healthy endpoint's row is not locked per attempt.
  if p_error is null then
    update public.webhook_endpoints set failing_since = null where id = endpoint and failing_since is not null;
    return json_build_object('outcome', outcome, 'disabled', null);
  end if;
  if p_status_code = 410 then
    reason := 'gone';
  else
    update public.webhook_endpoints set failing_since = now() where id = endpoint and failing_since is null;
    reason := 'failing';
  end if;
  update public.webhook_endpoints
     set active = false, disabled_reason = reason, updated_at = now()
   where id = endpoint and active and deleted_at is null
     and (reason = 'gone' or failing_since <= now() - make_interval(secs => p_disable_after_seconds))
  returning * into e;
  if not found then
    return json_build_object('outcome', outcome, 'disabled', null);
  end if;
  perform public.enqueue_webhook_event(e.workspace_id, 'webhook.endpoint_disabled',
                                       json_build_object('webhook', public.webhook_json(e)));
  return json_build_object('outcome', outcome, 'disabled', reason);
end;
$$;

revoke execute on function
  public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer, boolean, integer, integer)
  from public, anon, authenticated;
grant execute on function
  public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer, boolean, integer, integer)
  to service_role;
