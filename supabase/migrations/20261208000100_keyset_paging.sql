-- Keyset paging (issue 21). An offset page reads every row before it, and an exact total counts every row, so a
-- large tenant's deep pages cost what its size costs (`npm run bench:scale`: the last page of 20 k campaigns 11.9x
-- the small database's). A list RPC now also takes a position, the sort key of the row a page ended on
-- (p_after_created_at, p_after_id), and returns `next`, the position of its own last row when more rows follow:
--   - p_page given: the page of old, offset from the start, with `total`, as before (an older gateway's call,
--     which names no position, still gets exactly that);
--   - p_page null: the rows after the position (from the start without one), and no `total`.
-- The order is total (created_at, then id), so a walk from position to position returns every row that existed
-- when it started exactly once, whatever is inserted meanwhile. An absent position is the sentinel ('infinity',
-- the largest uuid) rather than an `is null or` branch: the function's query is planned without its arguments'
-- values, and only a plain row comparison becomes an index condition on (workspace_id, created_at desc, id desc).
-- One more row than a page is read, to know whether another page follows.

-- A list position as the gateway reads it back: created_at to the microsecond (iso_utc stops at the millisecond,
-- which would skip or repeat rows created within one), and the id as text (a uuid, or an attempt's bigint, which
-- a JSON number could round).
create function public.list_position(p_created_at timestamptz, p_id anyelement)
returns json
language sql immutable
set search_path = ''
as $$
  select json_build_object('created_at', to_char(p_created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'id', p_id::text)
$$;
revoke execute on function public.list_position(timestamptz, anyelement) from public, anon, authenticated;
grant execute on function public.list_position(timestamptz, anyelement) to service_role;

drop function public.list_campaigns(uuid, text, bigint, integer);
create function public.list_campaigns(
  p_workspace_id uuid, p_status text, p_page bigint, p_per_page integer,
  p_after_created_at timestamptz, p_after_id uuid)
returns json
language sql stable
set search_path = ''
set statement_timeout = '4s'
as $$
  with fetched as (
    select * from public.campaigns
     where workspace_id = p_workspace_id and (p_status is null or status = p_status)
       and (created_at, id) < (coalesce(p_after_created_at, 'infinity'),
                               coalesce(p_after_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     order by created_at desc, id desc
     limit p_per_page + 1 offset coalesce(p_page - 1, 0) * p_per_page
  ), page as (
    select * from fetched order by created_at desc, id desc limit p_per_page
  )
  select json_build_object(
    'campaigns', coalesce((select json_agg(public.campaign_json(c) order by c.created_at desc, c.id desc)
                             from page c), '[]'::json),
    'next', (select public.list_position(c.created_at, c.id) from page c
              where (select count(*) from fetched) > p_per_page
              order by c.created_at, c.id limit 1),
    'total', case when p_page is not null
                  then (select count(*) from public.campaigns
                         where workspace_id = p_workspace_id and (p_status is null or status = p_status)) end)
$$;

drop function public.list_api_keys(uuid, boolean, bigint, integer);
create function public.list_api_keys(
  p_workspace_id uuid, p_include_revoked boolean, p_page bigint, p_per_page integer,
  p_after_created_at timestamptz, p_after_id uuid)
returns json
language sql stable
set search_path = ''
set statement_timeout = '4s'
as $$
  with fetched as (
    select * from public.api_keys
     where workspace_id = p_workspace_id and (p_include_revoked or revoked_at is null)
       and (created_at, id) < (coalesce(p_after_created_at, 'infinity'),
                               coalesce(p_after_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     order by created_at desc, id desc
     limit p_per_page + 1 offset coalesce(p_page - 1, 0) * p_per_page
  ), page as (
    select * from fetched order by created_at desc, id desc limit p_per_page
  )
  select json_build_object(
    'api_keys', coalesce((select json_agg(public.api_key_json(k) order by k.created_at desc, k.id desc)
                            from page k), '[]'::json),
    'next', (select public.list_position(k.created_at, k.id) from page k
              where (select count(*) from fetched) > p_per_page
              order by k.created_at, k.id limit 1),
    'total', case when p_page is not null
                  then (select count(*) from public.api_keys
                         where workspace_id = p_workspace_id and (p_include_revoked or revoked_at is null)) end)
$$;

-- At most 20 live endpoints a workspace: paged like the others so that every list answers alike, not for speed.
drop function public.list_webhooks(uuid, bigint, integer);
create function public.list_webhooks(
  p_workspace_id uuid, p_page bigint, p_per_page integer, p_after_created_at timestamptz, p_after_id uuid)
returns json
language sql stable
set search_path = ''
set statement_timeout = '4s'
as $$
  with fetched as (
    select * from public.webhook_endpoints
     where workspace_id = p_workspace_id and deleted_at is null
       and (created_at, id) < (coalesce(p_after_created_at, 'infinity'),
                               coalesce(p_after_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     order by created_at desc, id desc
     limit p_per_page + 1 offset coalesce(p_page - 1, 0) * p_per_page
  ), page as (
    select * from fetched order by created_at desc, id desc limit p_per_page
  )
  select json_build_object(
    'webhooks', coalesce((
      select json_agg(public.webhook_json(e) || jsonb_build_object(
                        'last_delivery_status', latest.status,
                        'last_delivery_at', public.iso_utc(latest.created_at))
                      order by e.created_at desc, e.id desc)
        from page e
        left join lateral (select a.status, a.created_at
                             from public.webhook_attempts a
                            where a.endpoint_id = e.id
                            order by a.created_at desc, a.id desc
                            limit 1) as latest on true), '[]'::json),
    'next', (select public.list_position(e.created_at, e.id) from page e
              where (select count(*) from fetched) > p_per_page
              order by e.created_at, e.id limit 1),
    'total', case when p_page is not null
                  then (select count(*) from public.webhook_endpoints
                         where workspace_id = p_workspace_id and deleted_at is null) end)
$$;

drop function public.list_webhook_deliveries(uuid, uuid, text, bigint, integer);
create function public.list_webhook_deliveries(
  p_workspace_id uuid, p_id uuid, p_status text, p_page bigint, p_per_page integer,
  p_after_created_at timestamptz, p_after_id uuid)
returns json
language sql stable
set search_path = ''
set statement_timeout = '4s'
as $$
  with fetched as (
    select * from public.webhook_deliveries
     where endpoint_id = p_id and (p_status is null or status = p_status)
       and (created_at, id) < (coalesce(p_after_created_at, 'infinity'),
                               coalesce(p_after_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     order by created_at desc, id desc
     limit p_per_page + 1 offset coalesce(p_page - 1, 0) * p_per_page
  ), page as (
    select * from fetched order by created_at desc, id desc limit p_per_page
  )
  select case
    when not exists (select 1 from public.webhook_endpoints
                      where id = p_id and workspace_id = p_workspace_id and deleted_at is null)
      then json_build_object('outcome', 'not_found')
    else json_build_object(
      'outcome', 'ok',
      'deliveries', coalesce((select json_agg(public.webhook_delivery_json(d) order by d.created_at desc, d.id desc)
                                from page d), '[]'::json),
      'next', (select public.list_position(d.created_at, d.id) from page d
                where (select count(*) from fetched) > p_per_page
                order by d.created_at, d.id limit 1),
      'total', case when p_page is not null
                    then (select count(*) from public.webhook_deliveries
                           where endpoint_id = p_id and (p_status is null or status = p_status)) end)
  end
$$;

-- As in 20261207000720, the page's ids are chosen first and only its rows are built.
drop function public.list_webhook_logs(uuid, uuid, text, bigint, integer);
create function public.list_webhook_logs(
  p_workspace_id uuid, p_id uuid, p_status text, p_page bigint, p_per_page integer,
  p_after_created_at timestamptz, p_after_id bigint)
returns json
language sql stable
set search_path = ''
set statement_timeout = '4s'
as $$
  with fetched as (
    select id, created_at from public.webhook_attempts
     where endpoint_id = p_id and (p_status is null or status = p_status)
       and (created_at, id) < (coalesce(p_after_created_at, 'infinity'),
                               coalesce(p_after_id, 9223372036854775807))
     order by created_at desc, id desc
     limit p_per_page + 1 offset coalesce(p_page - 1, 0) * p_per_page
  ), page as (
    select * from fetched order by created_at desc, id desc limit p_per_page
  )
  select case
    when not exists (select 1 from public.webhook_endpoints
                      where id = p_id and workspace_id = p_workspace_id and deleted_at is null)
      then json_build_object('outcome', 'not_found')
    else json_build_object(
      'outcome', 'ok',
      'logs', coalesce((
        select json_agg(public.webhook_attempt_json(a, ev.event) order by a.created_at desc, a.id desc)
          from page
          join public.webhook_attempts a on a.id = page.id
          join public.webhook_deliveries d on d.id = a.delivery_id
          join public.webhook_events ev on ev.id = d.event_id), '[]'::json),
      'next', (select public.list_position(p.created_at, p.id) from page p
                where (select count(*) from fetched) > p_per_page
                order by p.created_at, p.id limit 1),
      'total', case when p_page is not null
                    then (select count(*) from public.webhook_attempts
                           where endpoint_id = p_id and (p_status is null or status = p_status)) end)
  end
$$;

do $$
declare
  f regprocedure;
begin
  foreach f in array array[
    'public.list_api_keys(uuid, boolean, bigint, integer, timestamptz, uuid)',
    'public.list_campaigns(uuid, text, bigint, integer, timestamptz, uuid)',
    'public.list_webhooks(uuid, bigint, integer, timestamptz, uuid)',
    'public.list_webhook_deliveries(uuid, uuid, text, bigint, integer, timestamptz, uuid)',
    'public.list_webhook_logs(uuid, uuid, text, bigint, integer, timestamptz, bigint)']::regprocedure[]
  loop
    execute format('revoke execute on function %s from public, anon, authenticated', f);
    execute format('grant execute on function %s to service_role', f);
  end loop;
  -- gateway_operation calls the lists with their new arguments.
  execute public.gateway_operation_source();
end
$$;

-- Indexes that match the lists' order, id included: the deliveries' lacked the tie-break (many deliveries of one
-- event share created_at), the keys' had none. Each replaces an index it extends.
drop index public.webhook_deliveries_endpoint_idx;
create index webhook_deliveries_endpoint_idx on public.webhook_deliveries (endpoint_id, created_at desc, id desc);
drop index public.api_keys_workspace_idx;
create index api_keys_workspace_idx on public.api_keys (workspace_id, created_at desc, id desc);
