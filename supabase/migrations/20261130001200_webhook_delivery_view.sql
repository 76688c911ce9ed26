-- The delivery view: GET /v1/webhooks/{id}/deliveries (one row per delivery, newest first) and
-- GET /v1/webhooks/{id}/deliveries/{delivery_id} (that row and its attempt log, oldest attempt first).
--
-- `attempts` is the number of attempts the log shows for the delivery (the claim counter of the same name also
-- counts a claim whose dispatcher died before recording, and restarts at 0 on a retry, so it is not shown);
-- `last_status_code` is the latest attempt's; `next_attempt_at` is set only while the delivery is pending.

create function public.webhook_delivery_json(d public.webhook_deliveries)
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
    'next_attempt_at', case when d.status = 'pending' then public.iso_utc(d.next_attempt_at) end,
    'created_at', public.iso_utc(d.created_at),
    'completed_at', public.iso_utc(d.completed_at))
$$;

create function public.list_webhook_deliveries(
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
      'deliveries', coalesce((
        select json_agg(public.webhook_delivery_json(page) order by page.created_at desc, page.id desc)
          from (select d.* from public.webhook_deliveries d
                 where d.endpoint_id = p_id and (p_status is null or d.status = p_status)
                 order by d.created_at desc, d.id desc
                 limit p_per_page offset (p_page - 1) * p_per_page) as page), '[]'::json),
      'total', (select count(*) from public.webhook_deliveries
                 where endpoint_id = p_id and (p_status is null or status = p_status)))
  end
$$;

create function public.get_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid)
returns json
language sql stable
set search_path = ''
as $$
  select case
    when not exists (select 1 from public.webhook_endpoints
                      where id = p_id and workspace_id = p_workspace_id and deleted_at is null)
      then json_build_object('outcome', 'webhook_not_found')
    when not exists (select 1 from public.webhook_deliveries where id = p_delivery_id and endpoint_id = p_id)
      then json_build_object('outcome', 'delivery_not_found')
    else (
      select json_build_object(
        'outcome', 'ok',
        'delivery', public.webhook_delivery_json(d),
        'attempts', coalesce((
          select json_agg(json_build_object(
                   'delivery_id', a.delivery_id, 'event', ev.event, 'attempt', a.attempt, 'status', a.status,
                   'status_code', a.status_code, 'error', a.error, 'response_body', a.response_body,
                   'duration_ms', a.duration_ms, 'created_at', public.iso_utc(a.created_at),
                   'next_attempt_at', public.iso_utc(a.next_attempt_at))
                 order by a.created_at, a.id)
            from public.webhook_attempts a
           where a.delivery_id = d.id), '[]'::json))
        from public.webhook_deliveries d
        join public.webhook_events ev on ev.id = d.event_id
       where d.id = p_delivery_id)
  end
$$;

revoke execute on function
  public.webhook_delivery_json(public.webhook_deliveries),
  public.list_webhook_deliveries(uuid, uuid, text, bigint, integer),
  public.get_webhook_delivery(uuid, uuid, uuid)
  from public, anon, authenticated;
grant execute on function
  public.webhook_delivery_json(public.webhook_deliveries),
  public.list_webhook_deliveries(uuid, uuid, text, bigint, integer),
  public.get_webhook_delivery(uuid, uuid, uuid)
  to service_role;
