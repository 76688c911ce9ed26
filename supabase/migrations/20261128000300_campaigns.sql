-- Campaigns and their RPCs. Each state change locks the row, checks the status, writes the change and the
-- webhook event in one transaction, and returns an outcome value the gateway maps to the contract.

create table public.campaigns (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  description text check (char_length(description) <= 2000),
  template text check (char_length(template) <= 100000),
  status text not null default 'draft'
    check (status in ('draft', 'pending_approval', 'active', 'paused', 'completed')),
  daily_send_limit integer not null default 50 check (daily_send_limit between 1 and 500),
  delay_between_emails integer not null default 60 check (delay_between_emails >= 30),
  sending_timezone text not null default 'UTC',
  send_on_weekends boolean not null default false,
  track_opens boolean not null default true,
  track_clicks boolean not null default true,
  show_unsubscribe boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  started_at timestamptz,
  paused_at timestamptz
);
create index campaigns_workspace_created_idx on public.campaigns (workspace_id, created_at desc, id desc);

alter table public.campaigns enable row level security;
revoke all on public.campaigns from anon, authenticated;

-- The contract's timestamp format: ISO 8601, UTC, Z suffix, millisecond precision.
create function public.iso_utc(p_ts timestamptz)
returns text
language sql immutable
set search_path = ''
as $$ select to_char(p_ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- The campaign object exactly as the API and the webhook payloads show it.
create function public.campaign_json(c public.campaigns)
returns json
language sql stable
set search_path = ''
as $$
  select json_build_object(
    'id', c.id, 'name', c.name, 'description', c.description, 'template', c.template, 'status', c.status,
    'daily_send_limit', c.daily_send_limit, 'delay_between_emails', c.delay_between_emails,
    'sending_timezone', c.sending_timezone, 'send_on_weekends', c.send_on_weekends,
    'track_opens', c.track_opens, 'track_clicks', c.track_clicks, 'show_unsubscribe', c.show_unsubscribe,
    'created_at', public.iso_utc(c.created_at), 'updated_at', public.iso_utc(c.updated_at),
    'started_at', public.iso_utc(c.started_at), 'paused_at', public.iso_utc(c.paused_at))
$$;

-- p_page is bigint: any page >= 1 is valid (past the end it is empty), and the offset must not overflow.
create function public.list_campaigns(p_workspace_id uuid, p_status text, p_page bigint, p_per_page integer)
returns json
language sql stable
set search_path = ''
as $$
  select json_build_object(
    'campaigns', coalesce((
      select json_agg(public.campaign_json(c) order by c.created_at desc, c.id desc)
        from (select * from public.campaigns
               where workspace_id = p_workspace_id and (p_status is null or status = p_status)
               order by created_at desc, id desc
               limit p_per_page offset (p_page - 1) * p_per_page) as c), '[]'::json),
    'total', (select count(*) from public.campaigns
               where workspace_id = p_workspace_id and (p_status is null or status = p_status)))
$$;

create function public.get_campaign(p_workspace_id uuid, p_id uuid)
returns json
language sql stable
set search_path = ''
as $$
  select coalesce(
    (select json_build_object('outcome', 'ok', 'campaign', public.campaign_json(c))
       from public.campaigns c where c.id = p_id and c.workspace_id = p_workspace_id),
    json_build_object('outcome', 'not_found'))
$$;

-- p_fields holds only validated, writable fields; absent keys keep their current (or default) value.
create function public.create_campaign(p_workspace_id uuid, p_fields jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  c public.campaigns;
  body json;
  deliveries integer;
begin
  insert into public.campaigns (workspace_id, name, description, template, daily_send_limit, delay_between_emails,
                                sending_timezone, send_on_weekends, track_opens, track_clicks, show_unsubscribe)
  values (p_workspace_id, p_fields ->> 'name', p_fields ->> 'description', p_fields ->> 'template',
          coalesce((p_fields ->> 'daily_send_limit')::integer, 50),
          coalesce((p_fields ->> 'delay_between_emails')::integer, 60),
          coalesce(p_fields ->> 'sending_timezone', 'UTC'),
          coalesce((p_fields ->> 'send_on_weekends')::boolean, false),
          coalesce((p_fields ->> 'track_opens')::boolean, true),
          coalesce((p_fields ->> 'track_clicks')::boolean, true),
          coalesce((p_fields ->> 'show_unsubscribe')::boolean, true))
  returning * into c;
  body := public.campaign_json(c);
  deliveries := public.enqueue_webhook_event(p_workspace_id, 'campaign.created', json_build_object('campaign', body));
  return json_build_object('outcome', 'ok', 'campaign', body, 'deliveries', deliveries);
end;
$$;

create function public.update_campaign(p_workspace_id uuid, p_id uuid, p_fields jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  c public.campaigns;
begin
  select * into c from public.campaigns where id = p_id and workspace_id = p_workspace_id for update;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if c.status = 'completed' then
    return json_build_object('outcome', 'completed', 'status', c.status);
  end if;
  update public.campaigns set
    name = case when p_fields ? 'name' then p_fields ->> 'name' else name end,
    description = case when p_fields ? 'description' then p_fields ->> 'description' else description end,
    template = case when p_fields ? 'template' then p_fields ->> 'template' else template end,
    daily_send_limit = coalesce((p_fields ->> 'daily_send_limit')::integer, daily_send_limit),
    delay_between_emails = coalesce((p_fields ->> 'delay_between_emails')::integer, delay_between_emails),
    sending_timezone = coalesce(p_fields ->> 'sending_timezone', sending_timezone),
    send_on_weekends = coalesce((p_fields ->> 'send_on_weekends')::boolean, send_on_weekends),
    track_opens = coalesce((p_fields ->> 'track_opens')::boolean, track_opens),
    track_clicks = coalesce((p_fields ->> 'track_clicks')::boolean, track_clicks),
    show_unsubscribe = coalesce((p_fields ->> 'show_unsubscribe')::boolean, show_unsubscribe),
    updated_at = now()
  where id = p_id
  returning * into c;
  return json_build_object('outcome', 'ok', 'campaign', public.campaign_json(c));
end;
$$;

-- The shared shape of start and pause: lock the row, check its status is one of p_from, move it to p_to (stamping
-- started_at or paused_at), and queue p_event, all in the caller's transaction. Refusals carry the status.
create function public.transition_campaign(
  p_workspace_id uuid, p_id uuid, p_from text[], p_to text, p_event text, p_refusal text)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  c public.campaigns;
  body json;
  deliveries integer;
begin
  select * into c from public.campaigns where id = p_id and workspace_id = p_workspace_id for update;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if not c.status = any (p_from) then
    return json_build_object('outcome', p_refusal, 'status', c.status);
  end if;
  update public.campaigns set
    status = p_to,
    started_at = case when p_to = 'active' then now() else started_at end,
    paused_at = case when p_to = 'paused' then now() else paused_at end,
    updated_at = now()
  where id = p_id
  returning * into c;
  body := public.campaign_json(c);
  deliveries := public.enqueue_webhook_event(p_workspace_id, p_event, json_build_object('campaign', body));
  return json_build_object('outcome', 'ok', 'campaign', body, 'deliveries', deliveries);
end;
$$;

-- draft or paused -> active. pending_approval counts as active, so it is not startable.
create function public.start_campaign(p_workspace_id uuid, p_id uuid)
returns json
language sql volatile
set search_path = ''
as $$
  select public.transition_campaign(p_workspace_id, p_id, array['draft', 'paused'], 'active', 'campaign.started',
                                    'not_startable')
$$;

-- active (or pending_approval, which counts as active) -> paused.
create function public.pause_campaign(p_workspace_id uuid, p_id uuid)
returns json
language sql volatile
set search_path = ''
as $$
  select public.transition_campaign(p_workspace_id, p_id, array['active', 'pending_approval'], 'paused',
                                    'campaign.paused', 'not_active')
$$;

-- draft only. A concurrent delete that waited on the row lock finds it gone and reports not_found.
create function public.delete_campaign(p_workspace_id uuid, p_id uuid)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  c public.campaigns;
  deliveries integer;
begin
  select * into c from public.campaigns where id = p_id and workspace_id = p_workspace_id for update;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if c.status <> 'draft' then
    return json_build_object('outcome', 'not_draft', 'status', c.status);
  end if;
  delete from public.campaigns where id = p_id;
  deliveries := public.enqueue_webhook_event(p_workspace_id, 'campaign.deleted',
    json_build_object('campaign', public.campaign_json(c)));
  return json_build_object('outcome', 'ok', 'id', c.id, 'deliveries', deliveries);
end;
$$;

revoke execute on function
  public.iso_utc(timestamptz), public.campaign_json(public.campaigns),
  public.list_campaigns(uuid, text, bigint, integer), public.get_campaign(uuid, uuid),
  public.create_campaign(uuid, jsonb), public.update_campaign(uuid, uuid, jsonb),
  public.start_campaign(uuid, uuid), public.pause_campaign(uuid, uuid), public.delete_campaign(uuid, uuid),
  public.transition_campaign(uuid, uuid, text[], text, text, text)
  from public, anon, authenticated;
grant execute on function
  public.iso_utc(timestamptz), public.campaign_json(public.campaigns),
  public.transition_campaign(uuid, uuid, text[], text, text, text),
  public.list_campaigns(uuid, text, bigint, integer), public.get_campaign(uuid, uuid),
  public.create_campaign(uuid, jsonb), public.update_campaign(uuid, uuid, jsonb),
  public.start_campaign(uuid, uuid), public.pause_campaign(uuid, uuid), public.delete_campaign(uuid, uuid)
  to service_role;
