-- One builder for an attempt as the log shows it, used by GET /v1/webhooks/{id}/logs and by the single delivery
-- view (GET /v1/webhooks/{id}/deliveries/{delivery_id}), which each wrote the same object out. Same JSON as before.

create function public.webhook_attempt_json(a public.webhook_attempts, p_event text)
returns json
language sql stable
set search_path = ''
as $$
  select json_build_object(
    'delivery_id', a.delivery_id, 'event', p_event, 'attempt', a.attempt, 'status', a.status,
    'status_code', a.status_code, 'error', a.error, 'response_body', a.response_body,
    'duration_ms', a.duration_ms, 'created_at', public.iso_utc(a.created_at),
    'next_attempt_at', public.iso_utc(a.next_attempt_at))
$$;

revoke execute on function public.webhook_attempt_json(public.webhook_attempts, text) from public, anon, authenticated;
grant execute on function public.webhook_attempt_json(public.webhook_attempts, text) to service_role;

-- As in 20261128000400, with each row built by webhook_attempt_json.
create or replace function public.list_webhook_logs(
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
          from (select public.webhook_attempt_json(a, ev.event) as log, a.created_at, a.id
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

-- As in 20261130001200, with each attempt built by webhook_attempt_json.
create or replace function public.get_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid)
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
          select json_agg(public.webhook_attempt_json(a, ev.event) order by a.created_at, a.id)
            from public.webhook_attempts a
           where a.delivery_id = d.id), '[]'::json))
        from public.webhook_deliveries d
        join public.webhook_events ev on ev.id = d.event_id
       where d.id = p_delivery_id)
  end
$$;
