-- Webhook isolation: no receiver can slow another's deliveries, and no delivery can loop.
--
-- * In-flight limits. The claim takes at most p_endpoint_limit attempts in flight per endpoint and
--   p_workspace_limit per workspace, counted from the live leases, so several dispatchers together respect them.
--   It locks each endpoint it claims for (FOR NO KEY UPDATE SKIP LOCKED), so two claims never both see the same
--   free room, and it serves workspaces in turns: one workspace's backlog cannot starve another's.
-- * Endpoint circuit. p_circuit_after consecutive failed attempts open the endpoint's circuit: none of its
--   deliveries is claimed until circuit_open_until, then one probe at a time; each time it opens again it stays
--   open twice as long (webhook_circuit_open_seconds). A success closes it. Deliveries keep their own schedule and
--   attempt count meanwhile; the deliveries view says they wait on the endpoint.
-- * Lost attempts. A lease that runs out unrecorded means the worker sending it is gone. The next claim records it
--   as a failed `attempt_lost` attempt (which counts toward the endpoint's failures and spends an attempt), and after
--   p_max_lost of them the delivery is `failed`: a delivery that kills its worker cannot loop.

alter table public.webhook_endpoints
  add column consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
  add column circuit_opens integer not null default 0 check (circuit_opens >= 0),
  add column circuit_open_until timestamptz;

alter table public.webhook_deliveries
  add column leased_at timestamptz,
  add column lost_attempts integer not null default 0 check (lost_attempts >= 0);

-- Live and expired leases: few rows at any time (one per attempt in flight), read by every claim.
create index webhook_deliveries_leased_idx on public.webhook_deliveries (lease_expires_at)
  include (endpoint_id, workspace_id)
  where status = 'pending' and lease_expires_at is not null;
-- An endpoint's due deliveries, oldest first: the claim's per-endpoint pick.
create index webhook_deliveries_endpoint_due_idx on public.webhook_deliveries (endpoint_id, next_attempt_at)
  where status = 'pending';

-- A workspace's endpoint count is bounded (docs/api-behaviour.md says why 20): one workspace cannot turn a
-- campaign change into hundreds of POSTs. Operators raise it per workspace. create_webhook enforces it
-- (20261207000300).
alter table public.workspaces
  add column webhook_endpoint_limit integer not null default 20 check (webhook_endpoint_limit between 1 and 1000);

-- How long an endpoint's circuit stays open the `opens`-th time in a row: doubling from the base, capped.
create function public.webhook_circuit_open_seconds(p_opens integer, p_base_seconds integer, p_max_seconds integer)
returns integer
language sql immutable
set search_path = ''
as $$
  select least(p_max_seconds::bigint, p_base_seconds::bigint * (2::bigint ^ least(greatest(p_opens - 1, 0), 30)))::integer
$$;

-- An attempt's outcome as the endpoint sees it: a success closes the circuit and ends the failure streak; a
-- failure extends both, and opens the circuit once p_circuit_after failures follow each other (unless it is open
-- already: attempts that started before it opened do not extend it). Returns when the circuit reopens, or null.
-- Writes only when something changes, so a healthy endpoint's row is not locked per attempt.
create function public.webhook_endpoint_attempted(
  p_endpoint_id uuid, p_ok boolean, p_circuit_after integer, p_circuit_base_seconds integer,
  p_circuit_max_seconds integer)
returns timestamptz
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
begin
  if p_ok then
    update public.webhook_endpoints
       set failing_since = null, consecutive_failures = 0, circuit_opens = 0, circuit_open_until = null
     where id = p_endpoint_id and (failing_since is not null or consecutive_failures > 0);
    return null;
  end if;
  select * into e from public.webhook_endpoints where id = p_endpoint_id for no key update;
  if e.consecutive_failures + 1 >= p_circuit_after
     and (e.circuit_open_until is null or e.circuit_open_until <= now()) then
    e.circuit_opens := e.circuit_opens + 1;
    e.circuit_open_until := now() + make_interval(secs => public.webhook_circuit_open_seconds(
      e.circuit_opens, p_circuit_base_seconds, p_circuit_max_seconds));
  end if;
  update public.webhook_endpoints
     set failing_since = coalesce(failing_since, now()), consecutive_failures = consecutive_failures + 1,
         circuit_opens = e.circuit_opens, circuit_open_until = e.circuit_open_until
   where id = p_endpoint_id;
  return case when e.circuit_open_until > now() then e.circuit_open_until end;
end;
$$;

drop function public.claim_webhook_deliveries(integer, double precision);
-- Returns {"cancelled": n, "lost": n, "deliveries": [...], "more_due": bool}: `lost` counts the expired leases
-- recorded as lost attempts; `more_due` says whether due deliveries of open endpoints are left unclaimed (held
-- back by an in-flight limit, or by a row another claim had locked): worth claiming again once an attempt ends.
-- The two-argument call of earlier dispatchers keeps working through the defaults. Candidate endpoints come from
-- the due deliveries (webhook_deliveries_due_idx), so a claim costs what is due, not how many endpoints exist:
-- testing every endpoint took 34 ms on a production-sized database (`npm run bench:scale`, 20 k endpoints)
-- against 6 ms on a small one.
create function public.claim_webhook_deliveries(
  p_limit integer, p_lease_seconds double precision, p_endpoint_limit integer default 4,
  p_workspace_limit integer default 16, p_max_lost integer default 3, p_circuit_after integer default 5,
  p_circuit_base_seconds integer default 30, p_circuit_max_seconds integer default 3600)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  lost record;
  lost_count integer := 0;
  gone boolean;
  reopens timestamptz;
  result json;
  more_due boolean;
begin
  for lost in
    select d.id, d.endpoint_id, d.attempts, d.lost_attempts, d.leased_at
      from public.webhook_deliveries d
     where d.status = 'pending' and d.lease_expires_at <= now()
     order by d.lease_expires_at
     limit p_limit
       for update skip locked
  loop
    lost_count := lost_count + 1;
    gone := lost.lost_attempts + 1 >= p_max_lost;
    reopens := public.webhook_endpoint_attempted(lost.endpoint_id, false, p_circuit_after, p_circuit_base_seconds,
                                                 p_circuit_max_seconds);
    update public.webhook_deliveries
       set lease_expires_at = null, leased_at = null, lost_attempts = lost_attempts + 1,
           spent_attempts = spent_attempts + 1,
           status = case when gone then 'failed' else status end,
           completed_at = case when gone then now() end
     where id = lost.id;
    insert into public.webhook_attempts
      (delivery_id, endpoint_id, attempt, status, error, duration_ms, next_attempt_at)
    values (lost.id, lost.endpoint_id, lost.attempts, 'failed', 'attempt_lost',
            coalesce(round(extract(epoch from now() - lost.leased_at) * 1000), 0)::integer,
            case when not gone then greatest(now(), reopens) end);
  end loop;

  with leased as (
    select d.endpoint_id, d.workspace_id
      from public.webhook_deliveries d
     where d.status = 'pending' and d.lease_expires_at > now()
  ), candidates as (
    select e.id, e.workspace_id, e.active and e.deleted_at is null as deliverable,
           -- A circuit that has been open lets one probe through at a time until a success closes it.
           (case when e.consecutive_failures >= p_circuit_after then 1 else p_endpoint_limit end)
             - (select count(*) from leased l where l.endpoint_id = e.id)::integer as room
      from public.webhook_endpoints e
     where (e.circuit_open_until is null or e.circuit_open_until <= now() or not e.active or e.deleted_at is not null)
       -- An array, so that the endpoints are looked up by primary key: the planner expects a twentieth of all
       -- deliveries to be due (every finished one has a past next_attempt_at) and would hash them all instead.
       and e.id = any (array(select d.endpoint_id from public.webhook_deliveries d
                              where d.status = 'pending' and d.next_attempt_at <= now()
                                and d.lease_expires_at is null))
       for no key update of e skip locked
  ), picked as (
    select d.id, c.id as endpoint_id, c.workspace_id, c.deliverable, c.room, d.next_attempt_at,
           row_number() over (partition by c.workspace_id order by d.next_attempt_at, d.id) as turn
      from candidates c
     cross join lateral (
       select d.id, d.next_attempt_at
         from public.webhook_deliveries d
        where d.endpoint_id = c.id and d.status = 'pending' and d.next_attempt_at <= now()
          and d.lease_expires_at is null
        order by d.next_attempt_at
        limit case when c.deliverable then greatest(c.room, 0) else p_limit end
          for update of d skip locked) d
  ), chosen as (
    select p.id, p.deliverable
      from picked p
     where not p.deliverable
        or p.turn <= p_workspace_limit - (select count(*) from leased l where l.workspace_id = p.workspace_id)
     order by p.turn, p.next_attempt_at
     limit p_limit
  ), cancelled as (
    update public.webhook_deliveries d
       set status = 'cancelled', completed_at = now()
      from chosen
     where d.id = chosen.id and not chosen.deliverable
    returning d.id
  ), claimed as (
    update public.webhook_deliveries d
       set attempts = d.attempts + 1, leased_at = now(),
           lease_expires_at = now() + make_interval(secs => p_lease_seconds)
      from chosen
     where d.id = chosen.id and chosen.deliverable
    returning d.id, d.attempts, d.spent_attempts, d.window_ends_at, d.event_id, d.endpoint_id, d.workspace_id
  )
  select json_build_object(
    'cancelled', (select count(*) from cancelled),
    'lost', lost_count,
    'deliveries', coalesce((select json_agg(json_build_object(
      'delivery_id', c.id, 'attempt', c.attempts, 'spent', c.spent_attempts,
      -- GREATEST ignores nulls, hence the CASE: no window yet is null, not 0.
      'window_left_ms', case when c.window_ends_at is not null
                             then greatest(0, ceil(extract(epoch from c.window_ends_at - now()) * 1000))::bigint end,
      'endpoint_id', c.endpoint_id, 'workspace_id', c.workspace_id,
      'event', ev.event, 'occurred_at', public.iso_utc(ev.occurred_at), 'data', ev.data,
      'url', e.url,
      -- `secret` too, as since 20261130001220, for a dispatcher deployed before that migration.
      'secret', e.secret,
      'secrets', case when e.previous_secret_expires_at > now() then json_build_array(e.secret, e.previous_secret)
                      else json_build_array(e.secret) end))
      from claimed c
      join public.webhook_events ev on ev.id = c.event_id
      join public.webhook_endpoints e on e.id = c.endpoint_id), '[]'::json))
    into result;
  -- After the claim, in a statement of its own so that it sees the claim's leases.
  -- Ordered by next_attempt_at so that it walks webhook_deliveries_due_idx: the planner, counting every finished
  -- delivery's past next_attempt_at as due, would otherwise read the table in full when nothing is due.
  more_due := exists (
    select 1
      from (select d.endpoint_id
              from public.webhook_deliveries d
             where d.status = 'pending' and d.next_attempt_at <= now() and d.lease_expires_at is null
             order by d.next_attempt_at) d
      join public.webhook_endpoints e on e.id = d.endpoint_id
     where e.active and e.deleted_at is null and (e.circuit_open_until is null or e.circuit_open_until <= now()));
  return (result::jsonb || jsonb_build_object('more_due', more_due))::json;
end;
$$;

drop function public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer, boolean, integer, integer);
-- As in 20261130001000, with the endpoint's circuit (webhook_endpoint_attempted), a fencing check that also needs
-- the lease (a lease recorded as lost by a later claim cannot be recorded again), and the attempt log's
-- next_attempt_at saying when the delivery really goes again: after its own retry time and after the circuit.
-- Returns {"outcome": "success"|"pending"|"failed"|"stale", "disabled": null|"gone"|"failing"}.
create function public.record_webhook_attempt(
  p_delivery_id uuid, p_attempt integer, p_status_code integer, p_error text, p_response_body text,
  p_duration_ms integer, p_retry_in_ms integer, p_spends boolean default true, p_window_ms integer default null,
  p_disable_after_seconds integer default 432000, p_circuit_after integer default 5,
  p_circuit_base_seconds integer default 30, p_circuit_max_seconds integer default 3600)
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
  reopens timestamptz;
  reason text;
  e public.webhook_endpoints;
begin
  update public.webhook_deliveries
     set status = outcome,
         next_attempt_at = coalesce(retry_at, next_attempt_at),
         lease_expires_at = null,
         leased_at = null,
         completed_at = case when outcome = 'pending' then null else now() end,
         spent_attempts = spent_attempts + case when p_spends then 1 else 0 end,
         window_ends_at = case when p_window_ms is null then window_ends_at
                               else now() + make_interval(secs => p_window_ms / 1000.0) end
   where id = p_delivery_id and status = 'pending' and attempts = p_attempt and lease_expires_at is not null
  returning endpoint_id into endpoint;
  if not found then
    return json_build_object('outcome', 'stale', 'disabled', null);
  end if;

  reopens := public.webhook_endpoint_attempted(endpoint, p_error is null, p_circuit_after, p_circuit_base_seconds,
                                               p_circuit_max_seconds);
  insert into public.webhook_attempts
    (delivery_id, endpoint_id, attempt, status, status_code, error, response_body, duration_ms, next_attempt_at)
  values (p_delivery_id, endpoint, p_attempt, case when p_error is null then 'success' else 'failed' end,
          p_status_code, p_error, p_response_body, p_duration_ms,
          case when retry_at is not null then greatest(retry_at, reopens) end);

  if p_error is null then
    return json_build_object('outcome', outcome, 'disabled', null);
  end if;
  reason := case when p_status_code = 410 then 'gone' else 'failing' end;
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

-- As in 20261130001200, and a pending delivery says what it waits on: `in_flight` (an attempt holds its lease) or
-- `endpoint_backoff` (the endpoint's circuit is open; next_attempt_at is then when the circuit lets it go).
create or replace function public.webhook_delivery_json(d public.webhook_deliveries)
returns json
language sql stable
set search_path = ''
as $$
  select json_build_object(
    'delivery_id', d.id,
    'event', (select ev.event from public.webhook_events ev where ev.id = d.event_id),
    'status', d.status,
    'attempts', (select count(*) from public.webhook_attempts a where a.delivery_id = d.id),
    'last_status_code', (select a.status_code from public.webhook_attempts a where a.delivery_id = d.id
                          order by a.created_at desc, a.id desc limit 1),
    'next_attempt_at', case when d.status = 'pending'
                            then public.iso_utc(greatest(d.next_attempt_at, e.circuit_open_until)) end,
    'waiting_on', case when d.status <> 'pending' then null
                       when d.lease_expires_at > now() then 'in_flight'
                       when e.circuit_open_until > now() then 'endpoint_backoff' end,
    'created_at', public.iso_utc(d.created_at),
    'completed_at', public.iso_utc(d.completed_at))
    from public.webhook_endpoints e
   where e.id = d.endpoint_id
$$;

-- As in 20261130001000, with the lost-attempt count reset too.
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
     set status = 'pending', attempts = 0, spent_attempts = 0, lost_attempts = 0, window_ends_at = null,
         next_attempt_at = now(), lease_expires_at = null, leased_at = null, completed_at = null
   where id = p_delivery_id;
  return json_build_object('outcome', 'ok', 'delivery_id', p_delivery_id);
end;
$$;

-- As in 20261130001210, in batches of at most 1,000 deliveries, oldest first (`has_more` says to call again), and
-- refused for a disabled endpoint, whose deliveries the next claim would cancel: nothing is counted that will not
-- be sent.
create or replace function public.recover_webhook_deliveries(
  p_workspace_id uuid, p_id uuid, p_since timestamptz, p_until timestamptz, p_dry_run boolean)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  batch constant integer := 1000;
  is_active boolean;
  n integer;
begin
  select active into is_active from public.webhook_endpoints
   where id = p_id and workspace_id = p_workspace_id and deleted_at is null
   for share;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if not is_active then
    return json_build_object('outcome', 'disabled');
  end if;
  if p_dry_run then
    select count(*) into n from public.webhook_deliveries
     where endpoint_id = p_id and status = 'failed'
       and created_at >= p_since and (p_until is null or created_at < p_until);
    return json_build_object('outcome', 'ok', 'count', n, 'requeued', 0, 'has_more', false);
  end if;
  with page as (
    select id from public.webhook_deliveries
     where endpoint_id = p_id and status = 'failed'
       and created_at >= p_since and (p_until is null or created_at < p_until)
     order by created_at, id
     limit batch
       for update
  ), requeued as (
    update public.webhook_deliveries d
       set status = 'pending', attempts = 0, spent_attempts = 0, lost_attempts = 0, window_ends_at = null,
           next_attempt_at = now(), lease_expires_at = null, leased_at = null, completed_at = null
      from page
     where d.id = page.id
    returning 1
  )
  select count(*) into n from requeued;
  return json_build_object('outcome', 'ok', 'count', n, 'requeued', n,
                           'has_more', exists (select 1 from public.webhook_deliveries
                                                where endpoint_id = p_id and status = 'failed'
                                                  and created_at >= p_since
                                                  and (p_until is null or created_at < p_until)));
end;
$$;

revoke execute on function
  public.webhook_circuit_open_seconds(integer, integer, integer),
  public.webhook_endpoint_attempted(uuid, boolean, integer, integer, integer),
  public.claim_webhook_deliveries(integer, double precision, integer, integer, integer, integer, integer, integer),
  public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer, boolean, integer, integer,
                                integer, integer, integer)
  from public, anon, authenticated;
grant execute on function
  public.webhook_circuit_open_seconds(integer, integer, integer),
  public.webhook_endpoint_attempted(uuid, boolean, integer, integer, integer),
  public.claim_webhook_deliveries(integer, double precision, integer, integer, integer, integer, integer, integer),
  public.record_webhook_attempt(uuid, integer, integer, text, text, integer, integer, boolean, integer, integer,
                                integer, integer, integer)
  to service_role;
