-- Webhook endpoint management RPCs. Endpoints are soft-deleted (deleted_at) so the attempt log keeps its foreign
-- keys; every function reports a deleted endpoint, or one of another workspace, as not found.

-- The webhook object as the API shows it. The secret is left out on purpose: it is shown once, at creation.
-- jsonb so that callers can extend it with `||`.
create function public.webhook_json(e public.webhook_endpoints)
returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', e.id, 'url', e.url, 'events', e.events, 'description', e.description, 'active', e.active,
    'created_at', public.iso_utc(e.created_at), 'updated_at', public.iso_utc(e.updated_at))
$$;

-- Each endpoint carries the status and time of its latest attempt (null before the first one). p_page is bigint,
-- as in list_campaigns: any page >= 1 is valid and the offset must not overflow.
create function public.list_webhooks(p_workspace_id uuid, p_page bigint, p_per_page integer)
returns json
language sql stable
set search_path = ''
as $$
  select json_build_object(
    'webhooks', coalesce((
      select json_agg(page.webhook order by page.created_at desc, page.id desc)
        from (select public.webhook_json(e) || jsonb_build_object(
                       'last_delivery_status', latest.status,
                       'last_delivery_at', public.iso_utc(latest.created_at)) as webhook,
                     e.created_at, e.id
                from public.webhook_endpoints e
                left join lateral (select a.status, a.created_at
                                     from public.webhook_attempts a
                                    where a.endpoint_id = e.id
                                    order by a.created_at desc, a.id desc
                                    limit 1) as latest on true
               where e.workspace_id = p_workspace_id and e.deleted_at is null
               order by e.created_at desc, e.id desc
               limit p_per_page offset (p_page - 1) * p_per_page) as page), '[]'::json),
    'total', (select count(*) from public.webhook_endpoints
               where workspace_id = p_workspace_id and deleted_at is null))
$$;

create function public.get_webhook(p_workspace_id uuid, p_id uuid)
returns json
language sql stable
set search_path = ''
as $$
  select coalesce(
    (select json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e))
       from public.webhook_endpoints e
      where e.id = p_id and e.workspace_id = p_workspace_id and e.deleted_at is null),
    json_build_object('outcome', 'not_found'))
$$;

-- p_fields holds validated fields (url already checked and normalised). Two concurrent creates of one URL meet
-- in webhook_endpoints_url_idx: the second waits for the first to commit and then gets the duplicate outcome.
create function public.create_webhook(p_workspace_id uuid, p_fields jsonb, p_secret text)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
  violated text;
begin
  insert into public.webhook_endpoints (workspace_id, url, events, description, active, secret)
  values (p_workspace_id, p_fields ->> 'url', array(select jsonb_array_elements_text(p_fields -> 'events')),
          p_fields ->> 'description', coalesce((p_fields ->> 'active')::boolean, true), p_secret)
  returning * into e;
  return json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e) || jsonb_build_object('secret', e.secret));
exception when unique_violation then
  get stacked diagnostics violated = constraint_name;
  if violated is distinct from 'webhook_endpoints_url_idx' then
    raise;
  end if;
  return json_build_object('outcome', 'duplicate');
end;
$$;

-- Absent keys keep their value; `events` replaces the list. The UPDATE takes the row lock, and a concurrent
-- delete that committed first makes its `deleted_at is null` fail, so the outcome is not_found.
create function public.update_webhook(p_workspace_id uuid, p_id uuid, p_fields jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
  violated text;
begin
  update public.webhook_endpoints set
    url = coalesce(p_fields ->> 'url', url),
    events = case when p_fields ? 'events'
                  then array(select jsonb_array_elements_text(p_fields -> 'events')) else events end,
    description = case when p_fields ? 'description' then p_fields ->> 'description' else description end,
    active = coalesce((p_fields ->> 'active')::boolean, active),
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

-- Soft delete, and the endpoint's pending deliveries are cancelled in the same transaction. Endpoint row first,
-- then deliveries: the same lock order as the test and retry functions below.
create function public.delete_webhook(p_workspace_id uuid, p_id uuid)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  cancelled integer;
begin
  update public.webhook_endpoints set deleted_at = now(), updated_at = now()
   where id = p_id and workspace_id = p_workspace_id and deleted_at is null;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  update public.webhook_deliveries
     set status = 'cancelled', completed_at = now(), lease_expires_at = null
   where endpoint_id = p_id and status = 'pending';
  get diagnostics cancelled = row_count;
  return json_build_object('outcome', 'ok', 'id', p_id, 'cancelled', cancelled);
end;
$$;

-- One row per attempt, newest first.
create function public.list_webhook_logs(
  p_workspace_id uuid, p_id uuid, p_status text, p_page bigint, p_per_page integer)
returns json
language sql stable
set search_path = ''
as $$
  select case
    when not exists (select 1 from public.webhook_endpoints
                      where id = p_id and workspace_id = p_workspace_id and deleted_at is null)
      then json_build_object('outcome', 'not_found')
    else json_build_object(
      'outcome', 'ok',
      'logs', coalesce((
        select json_agg(page.log order by page.created_at desc, page.id desc)
          from (select json_build_object(
                         'delivery_id', a.delivery_id, 'event', ev.event, 'attempt', a.attempt, 'status', a.status,
                         'status_code', a.status_code, 'error', a.error, 'response_body', a.response_body,
                         'duration_ms', a.duration_ms, 'created_at', public.iso_utc(a.created_at),
                         'next_attempt_at', public.iso_utc(a.next_attempt_at)) as log,
                       a.created_at, a.id
                  from public.webhook_attempts a
                  join public.webhook_deliveries d on d.id = a.delivery_id
                  join public.webhook_events ev on ev.id = d.event_id
                 where a.endpoint_id = p_id and (p_status is null or a.status = p_status)
                 order by a.created_at desc, a.id desc
                 limit p_per_page offset (p_page - 1) * p_per_page) as page), '[]'::json),
      'total', (select count(*) from public.webhook_attempts
                 where endpoint_id = p_id and (p_status is null or status = p_status)))
  end
$$;

-- Queues p_event (the gateway owns the test event's name) for this endpoint alone, subscribed or not. The share
-- lock keeps a concurrent delete waiting until this delivery is committed, so that delete cancels it too.
create function public.send_test_webhook(p_workspace_id uuid, p_id uuid, p_event text)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  e public.webhook_endpoints;
  new_event_id uuid;
  new_delivery_id uuid;
begin
  select * into e from public.webhook_endpoints
   where id = p_id and workspace_id = p_workspace_id and deleted_at is null
   for share;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  insert into public.webhook_events (workspace_id, event, data)
  values (p_workspace_id, p_event, json_build_object('webhook', public.webhook_json(e)))
  returning id into new_event_id;
  insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id)
  values (p_workspace_id, new_event_id, p_id)
  returning id into new_delivery_id;
  return json_build_object('outcome', 'ok', 'delivery_id', new_delivery_id);
end;
$$;

-- A failed delivery starts over: pending, no attempts counted, due now, no lease. The endpoint is share-locked
-- for the same reason as in send_test_webhook: a concurrent delete must not miss the revived delivery.
create function public.retry_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid)
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
     set status = 'pending', attempts = 0, next_attempt_at = now(), lease_expires_at = null, completed_at = null
   where id = p_delivery_id;
  return json_build_object('outcome', 'ok', 'delivery_id', p_delivery_id);
end;
$$;

revoke execute on function
  public.webhook_json(public.webhook_endpoints), public.list_webhooks(uuid, bigint, integer),
  public.get_webhook(uuid, uuid), public.create_webhook(uuid, jsonb, text), public.update_webhook(uuid, uuid, jsonb),
  public.delete_webhook(uuid, uuid), public.list_webhook_logs(uuid, uuid, text, bigint, integer),
  public.send_test_webhook(uuid, uuid, text), public.retry_webhook_delivery(uuid, uuid, uuid)
  from public, anon, authenticated;
grant execute on function
  public.webhook_json(public.webhook_endpoints),
  public.list_webhooks(uuid, bigint, integer), public.get_webhook(uuid, uuid), public.create_webhook(uuid, jsonb, text),
  public.update_webhook(uuid, uuid, jsonb), public.delete_webhook(uuid, uuid),
  public.list_webhook_logs(uuid, uuid, text, bigint, integer), public.send_test_webhook(uuid, uuid, text),
  public.retry_webhook_delivery(uuid, uuid, uuid)
  to service_role;
