-- Webhook endpoints and the transactional outbox every state change writes into: one event row, and one
-- delivery row per endpoint that is active and subscribed when the event commits. A delivery row carries
-- everything the dispatcher needs (endpoint, event, schedule, lease); each attempt is logged separately.

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  url text not null,
  events text[] not null,
  description text check (char_length(description) <= 200),
  active boolean not null default true,
  secret text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
create unique index webhook_endpoints_url_idx on public.webhook_endpoints (workspace_id, url) where deleted_at is null;
create index webhook_endpoints_subscribed_idx on public.webhook_endpoints using gin (events) where active and deleted_at is null;

create table public.webhook_events (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  event text not null,
  data json not null,
  occurred_at timestamptz not null default now()
);
create index webhook_events_workspace_idx on public.webhook_events (workspace_id, occurred_at);

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces (id) on delete cascade,
  event_id uuid not null references public.webhook_events (id) on delete cascade,
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'success', 'failed', 'cancelled')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  lease_expires_at timestamptz,
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index webhook_deliveries_due_idx on public.webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_endpoint_idx on public.webhook_deliveries (endpoint_id, created_at desc);
create index webhook_deliveries_event_idx on public.webhook_deliveries (event_id);
create index webhook_deliveries_workspace_idx on public.webhook_deliveries (workspace_id);

create table public.webhook_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references public.webhook_deliveries (id) on delete cascade,
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  attempt integer not null,
  status text not null check (status in ('success', 'failed', 'pending')),
  status_code integer,
  error text check (error in ('timeout', 'connection_refused', 'dns_failure', 'http_error', 'blocked_url')),
  response_body text,
  duration_ms integer not null,
  next_attempt_at timestamptz,
  created_at timestamptz not null default now(),
  unique (delivery_id, attempt)
);
create index webhook_attempts_endpoint_idx on public.webhook_attempts (endpoint_id, created_at desc, id desc);

alter table public.webhook_endpoints enable row level security;
alter table public.webhook_events enable row level security;
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_attempts enable row level security;
revoke all on public.webhook_endpoints, public.webhook_events, public.webhook_deliveries, public.webhook_attempts
  from anon, authenticated;

-- Called inside the state-changing RPCs, so the event and its deliveries commit with the change or not at all.
-- Returns how many deliveries were queued, so the caller knows whether to wake the dispatcher.
create function public.enqueue_webhook_event(p_workspace_id uuid, p_event text, p_data json)
returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
  event_id uuid;
  delivery_count integer;
begin
  insert into public.webhook_events (workspace_id, event, data)
  values (p_workspace_id, p_event, p_data)
  returning id into event_id;

  insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id)
  select p_workspace_id, event_id, e.id
    from public.webhook_endpoints e
   where e.workspace_id = p_workspace_id
     and e.active
     and e.deleted_at is null
     and e.events @> array[p_event];
  get diagnostics delivery_count = row_count;
  return delivery_count;
end;
$$;

revoke execute on function public.enqueue_webhook_event(uuid, text, json) from public, anon, authenticated;
grant execute on function public.enqueue_webhook_event(uuid, text, json) to service_role;
