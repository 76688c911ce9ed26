-- The logs view built every row it skipped: with offset paging, page n of an endpoint's attempts ran
-- webhook_attempt_json (and joined the delivery and the event) for all the rows before it, and threw them away.
-- For the largest endpoint of `npm run bench:scale` (250 k attempts) the last page took seconds. The page's ids
-- are now chosen first, from the endpoint's index, and only its rows are built; skipping rows costs an index walk.
-- Otherwise as in 20261201000300.
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
        select json_agg(public.webhook_attempt_json(a, ev.event) order by a.created_at desc, a.id desc)
          from (select a.id
                  from public.webhook_attempts a
                 where a.endpoint_id = p_id and (p_status is null or a.status = p_status)
                 order by a.created_at desc, a.id desc
                 limit p_per_page offset (p_page - 1) * p_per_page) as page
          join public.webhook_attempts a on a.id = page.id
          join public.webhook_deliveries d on d.id = a.delivery_id
          join public.webhook_events ev on ev.id = d.event_id), '[]'::json),
      'total', (select count(*) from public.webhook_attempts
                 where endpoint_id = p_id and (p_status is null or status = p_status)))
  end
$$;
