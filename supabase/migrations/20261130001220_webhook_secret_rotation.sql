-- Secret rotation with an overlap: POST /v1/webhooks/{id}/rotate-secret replaces the signing secret and keeps the
-- one it replaced valid until previous_secret_expires_at, so receivers can switch without losing deliveries.
-- Only one previous secret is kept: rotating again during an overlap ends the older secret's validity at once.
alter table public.webhook_endpoints
  add column previous_secret text,
  add column previous_secret_expires_at timestamptz,
  add constraint webhook_endpoints_previous_secret_check
    check ((previous_secret is null) = (previous_secret_expires_at is null));

-- Returns {"outcome": "ok", "webhook": {...webhook_json, "secret"}} or {"outcome": "not_found"}. An overlap of 0
-- drops the old secret at once.
create function public.rotate_webhook_secret(
  p_workspace_id uuid, p_id uuid, p_secret text, p_overlap_seconds integer)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
begin
  update public.webhook_endpoints set
    previous_secret = case when p_overlap_seconds > 0 then secret end,
    previous_secret_expires_at = case when p_overlap_seconds > 0
                                      then now() + make_interval(secs => p_overlap_seconds) end,
    secret = p_secret,
    updated_at = now()
  where id = p_id and workspace_id = p_workspace_id and deleted_at is null
  returning * into e;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  return json_build_object('outcome', 'ok',
                           'webhook', public.webhook_json(e) || jsonb_build_object('secret', e.secret));
end;
$$;

revoke execute on function public.rotate_webhook_secret(uuid, uuid, text, integer) from public, anon, authenticated;
grant execute on function public.rotate_webhook_secret(uuid, uuid, text, integer) to service_role;

-- As in 20261130001000, with `secrets`: every secret the delivery is signed with, newest first; the previous one
-- only while its overlap lasts.
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
      'url', e.url,
      -- `secret` too, so a dispatcher deployed before this migration keeps signing until the functions are deployed.
      'secret', e.secret,
      'secrets', case when e.previous_secret_expires_at > now() then json_build_array(e.secret, e.previous_secret)
                      else json_build_array(e.secret) end)), '[]'::json))
    from claimed c
    join public.webhook_events ev on ev.id = c.event_id
    join public.webhook_endpoints e on e.id = c.endpoint_id
$$;
