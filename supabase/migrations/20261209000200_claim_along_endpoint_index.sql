-- The dispatcher's claim as in 20261207000200 (with 20261207000900's statement_timeout), but for how it picks each
-- candidate endpoint's due deliveries. `npm run bench:scale` timed the claim at 4.4-5 ms on its small database in
-- some runs and 15-19 ms in others, and the production-size figure against it at 0.4x to 1.6x. The cause was the
-- small database's plan, not the machine: for the per-endpoint pick (`endpoint_id = c.id ... order by
-- next_attempt_at limit room`), the plans PL/pgSQL makes with the call's values walked webhook_deliveries_due_idx
-- (every due delivery, in next_attempt_at order) and filtered on the endpoint, once per candidate endpoint: 2,000
-- due rows on 40 endpoints, about 0.37 ms an endpoint, 12 ms of the claim; its generic plan read the endpoint's
-- own rows from webhook_deliveries_endpoint_due_idx (0.004 ms an endpoint). Which of the two a session ended up
-- using decided the run. With few endpoints and a large backlog a deployment would pay the same, growing with the
-- backlog times the endpoints. The pick now asks for an order only webhook_deliveries_endpoint_due_idx gives,
-- so that it reads at most `room` rows of the endpoint's own at any size.

create or replace function public.claim_webhook_deliveries(
  p_limit integer, p_lease_seconds double precision, p_endpoint_limit integer default 4,
  p_workspace_limit integer default 16, p_max_lost integer default 3, p_circuit_after integer default 5,
  p_circuit_base_seconds integer default 30, p_circuit_max_seconds integer default 3600)
returns json
language plpgsql volatile
set search_path = ''
set statement_timeout = '4s'
set enable_incremental_sort = off
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
       -- The endpoint's due deliveries, earliest first, read from webhook_deliveries_endpoint_due_idx whatever the
       -- statistics say: the range (c.id, -infinity) to (c.id, now()) of (endpoint_id, next_attempt_at) is exactly
       -- `endpoint_id = c.id and next_attempt_at <= now()`, but unlike that equality it leaves endpoint_id in the
       -- order asked for, which only that index returns without sorting (incremental sorts are off for this
       -- function, so an index led by endpoint_id alone would have to sort all of the endpoint's rows first).
       select d.id, d.next_attempt_at
         from public.webhook_deliveries d
        where (d.endpoint_id, d.next_attempt_at) >= (c.id, '-infinity'::timestamptz)
          and (d.endpoint_id, d.next_attempt_at) <= (c.id, now())
          and d.status = 'pending' and d.lease_expires_at is null
        order by d.endpoint_id, d.next_attempt_at
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

revoke execute on function
  public.claim_webhook_deliveries(integer, double precision, integer, integer, integer, integer, integer, integer)
  from public, anon, authenticated;
grant execute on function
  public.claim_webhook_deliveries(integer, double precision, integer, integer, integer, integer, integer, integer)
  to service_role;
