-- The current definition of every table and function in public, generated from supabase/migrations by
-- `npm run schema`. Read it here; change it with a new migration, then run `npm run schema` again
-- (tests/db/schema-snapshot.test.ts fails while this file and the migrations disagree).

-- Tables

create table public.api_keys (
  id uuid not null default gen_random_uuid(),
  workspace_id uuid not null,
  key_hash bytea not null,
  prefix text not null,
  name text not null,
  description text,
  permissions text[] not null default '{}'::text[],
  rate_limit_tier text not null default 'standard'::text,
  expires_at timestamp with time zone,
  revoked_at timestamp with time zone,
  last_used_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  constraint api_keys_description_length CHECK ((char_length(description) <= 500)),
  constraint api_keys_key_hash_check CHECK ((octet_length(key_hash) = 32)),
  constraint api_keys_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 120))),
  constraint api_keys_permissions_known CHECK ((permissions <@ ARRAY['campaigns:read'::text, 'campaigns:write'::text, 'webhooks:read'::text, 'webhooks:write'::text, 'admin:api_keys'::text])),
  constraint api_keys_rate_limit_tier_check CHECK ((rate_limit_tier = ANY (ARRAY['standard'::text, 'high'::text, 'unmetered'::text]))),
  constraint api_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE,
  constraint api_keys_pkey PRIMARY KEY (id),
  constraint api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_workspace_idx ON public.api_keys USING btree (workspace_id, created_at DESC, id DESC);
alter table public.api_keys enable row level security;
grant insert, select, update on public.api_keys to service_role;

create table public.campaigns (
  id uuid not null default gen_random_uuid(),
  workspace_id uuid not null,
  name text not null,
  description text,
  template text,
  status text not null default 'draft'::text,
  daily_send_limit integer not null default 50,
  delay_between_emails integer not null default 60,
  sending_timezone text not null default 'UTC'::text,
  send_on_weekends boolean not null default false,
  track_opens boolean not null default true,
  track_clicks boolean not null default true,
  show_unsubscribe boolean not null default true,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  started_at timestamp with time zone,
  paused_at timestamp with time zone,
  constraint campaigns_daily_send_limit_check CHECK (((daily_send_limit >= 1) AND (daily_send_limit <= 500))),
  constraint campaigns_delay_between_emails_check CHECK ((delay_between_emails >= 30)),
  constraint campaigns_description_check CHECK ((char_length(description) <= 2000)),
  constraint campaigns_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
  constraint campaigns_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'pending_approval'::text, 'active'::text, 'paused'::text, 'completed'::text]))),
  constraint campaigns_template_check CHECK ((char_length(template) <= 100000)),
  constraint campaigns_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE,
  constraint campaigns_pkey PRIMARY KEY (id)
);
CREATE INDEX campaigns_workspace_created_idx ON public.campaigns USING btree (workspace_id, created_at DESC, id DESC);
alter table public.campaigns enable row level security;
grant delete, insert, select, update on public.campaigns to service_role;

create table public.function_deployments (
  slug text not null,
  source_sha256 text not null,
  deployed_at timestamp with time zone not null default now(),
  constraint function_deployments_source_sha256_check CHECK ((source_sha256 ~ '^[0-9a-f]{64}$'::text)),
  constraint function_deployments_pkey PRIMARY KEY (slug)
);
alter table public.function_deployments enable row level security;

create table public.gateway_operations (
  rpc text not null,
  constraint gateway_operations_pkey PRIMARY KEY (rpc)
);
CREATE TRIGGER gateway_operations_changed AFTER INSERT OR DELETE OR UPDATE ON public.gateway_operations FOR EACH STATEMENT EXECUTE FUNCTION public.gateway_operations_changed();
alter table public.gateway_operations enable row level security;
grant select on public.gateway_operations to service_role;

create table public.idempotency_keys (
  workspace_id uuid not null,
  key_hash bytea not null,
  fingerprint bytea not null,
  result json,
  sealed text,
  created_at timestamp with time zone not null default now(),
  api_key_id uuid not null,
  constraint idempotency_keys_fingerprint_check CHECK ((octet_length(fingerprint) = 32)),
  constraint idempotency_keys_key_hash_check CHECK ((octet_length(key_hash) = 32)),
  constraint idempotency_keys_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE,
  constraint idempotency_keys_pkey PRIMARY KEY (workspace_id, key_hash)
);
CREATE INDEX idempotency_keys_created_at_idx ON public.idempotency_keys USING btree (created_at);
alter table public.idempotency_keys enable row level security;
grant delete, insert, select, update on public.idempotency_keys to service_role;

create table public.rate_limit_counters (
  workspace_id uuid not null,
  day_start date not null,
  day_count integer not null,
  minute_start timestamp with time zone not null,
  minute_count integer not null,
  constraint rate_limit_counters_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE,
  constraint rate_limit_counters_pkey PRIMARY KEY (workspace_id)
);
alter table public.rate_limit_counters enable row level security;
grant insert, select, update on public.rate_limit_counters to service_role;

create table public.webhook_attempts (
  id bigint generated always as identity not null,
  delivery_id uuid not null,
  endpoint_id uuid not null,
  attempt integer not null,
  status text not null,
  status_code integer,
  error text,
  response_body text,
  duration_ms integer not null,
  next_attempt_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  constraint webhook_attempts_error_check CHECK ((error = ANY (ARRAY['timeout'::text, 'connection_refused'::text, 'tls_error'::text, 'dns_failure'::text, 'http_error'::text, 'malformed_response'::text, 'blocked_url'::text, 'attempt_lost'::text]))),
  constraint webhook_attempts_status_check CHECK ((status = ANY (ARRAY['success'::text, 'failed'::text, 'pending'::text]))),
  constraint webhook_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES public.webhook_deliveries(id) ON DELETE CASCADE,
  constraint webhook_attempts_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id) ON DELETE CASCADE,
  constraint webhook_attempts_pkey PRIMARY KEY (id)
);
CREATE INDEX webhook_attempts_created_idx ON public.webhook_attempts USING btree (created_at);
CREATE INDEX webhook_attempts_delivery_idx ON public.webhook_attempts USING btree (delivery_id, attempt);
CREATE INDEX webhook_attempts_endpoint_idx ON public.webhook_attempts USING btree (endpoint_id, created_at DESC, id DESC);
alter table public.webhook_attempts enable row level security;
grant delete, insert, select on public.webhook_attempts to service_role;

create table public.webhook_deliveries (
  id uuid not null default public.uuid_v7(),
  workspace_id uuid not null,
  event_id uuid not null,
  endpoint_id uuid not null,
  status text not null default 'pending'::text,
  attempts integer not null default 0,
  next_attempt_at timestamp with time zone not null default now(),
  lease_expires_at timestamp with time zone,
  created_at timestamp with time zone not null default now(),
  completed_at timestamp with time zone,
  spent_attempts integer not null default 0,
  window_ends_at timestamp with time zone,
  leased_at timestamp with time zone,
  lost_attempts integer not null default 0,
  constraint webhook_deliveries_lost_attempts_check CHECK ((lost_attempts >= 0)),
  constraint webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'success'::text, 'failed'::text, 'cancelled'::text]))),
  constraint webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoints(id) ON DELETE CASCADE,
  constraint webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.webhook_events(id) ON DELETE CASCADE,
  constraint webhook_deliveries_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE,
  constraint webhook_deliveries_pkey PRIMARY KEY (id)
);
CREATE INDEX webhook_deliveries_created_idx ON public.webhook_deliveries USING btree (created_at) WHERE (status <> 'pending'::text);
CREATE INDEX webhook_deliveries_due_idx ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);
CREATE INDEX webhook_deliveries_endpoint_due_idx ON public.webhook_deliveries USING btree (endpoint_id, next_attempt_at) WHERE (status = 'pending'::text);
CREATE INDEX webhook_deliveries_endpoint_idx ON public.webhook_deliveries USING btree (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event_idx ON public.webhook_deliveries USING btree (event_id);
CREATE INDEX webhook_deliveries_leased_idx ON public.webhook_deliveries USING btree (lease_expires_at) INCLUDE (endpoint_id, workspace_id) WHERE ((status = 'pending'::text) AND (lease_expires_at IS NOT NULL));
CREATE INDEX webhook_deliveries_workspace_idx ON public.webhook_deliveries USING btree (workspace_id);
alter table public.webhook_deliveries enable row level security;
grant delete, insert, select, update on public.webhook_deliveries to service_role;

create table public.webhook_endpoints (
  id uuid not null default gen_random_uuid(),
  workspace_id uuid not null,
  url text not null,
  events text[] not null,
  description text,
  active boolean not null default true,
  secret text not null,
  created_at timestamp with time zone not null default now(),
  updated_at timestamp with time zone not null default now(),
  deleted_at timestamp with time zone,
  failing_since timestamp with time zone,
  disabled_reason text,
  previous_secret text,
  previous_secret_expires_at timestamp with time zone,
  consecutive_failures integer not null default 0,
  circuit_opens integer not null default 0,
  circuit_open_until timestamp with time zone,
  constraint webhook_endpoints_circuit_opens_check CHECK ((circuit_opens >= 0)),
  constraint webhook_endpoints_consecutive_failures_check CHECK ((consecutive_failures >= 0)),
  constraint webhook_endpoints_description_check CHECK ((char_length(description) <= 200)),
  constraint webhook_endpoints_disabled_reason_check CHECK ((disabled_reason = ANY (ARRAY['gone'::text, 'failing'::text]))),
  constraint webhook_endpoints_previous_secret_check CHECK (((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))),
  constraint webhook_endpoints_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE,
  constraint webhook_endpoints_pkey PRIMARY KEY (id)
);
CREATE INDEX webhook_endpoints_subscribed_idx ON public.webhook_endpoints USING gin (events) WHERE (active AND (deleted_at IS NULL));
CREATE UNIQUE INDEX webhook_endpoints_url_idx ON public.webhook_endpoints USING btree (workspace_id, public.webhook_url_digest(url)) WHERE (deleted_at IS NULL);
alter table public.webhook_endpoints enable row level security;
grant insert, select, update on public.webhook_endpoints to service_role;

create table public.webhook_events (
  id uuid not null default public.uuid_v7(),
  workspace_id uuid not null,
  event text not null,
  data json not null,
  occurred_at timestamp with time zone not null default now(),
  constraint webhook_events_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES public.workspaces(id) ON DELETE CASCADE,
  constraint webhook_events_pkey PRIMARY KEY (id)
);
CREATE INDEX webhook_events_occurred_idx ON public.webhook_events USING btree (occurred_at);
CREATE INDEX webhook_events_workspace_idx ON public.webhook_events USING btree (workspace_id, occurred_at);
alter table public.webhook_events enable row level security;
grant delete, insert, select on public.webhook_events to service_role;

create table public.workspaces (
  id uuid not null default gen_random_uuid(),
  name text not null,
  plan text not null default 'starter'::text,
  created_at timestamp with time zone not null default now(),
  webhook_endpoint_limit integer not null default 20,
  constraint workspaces_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 200))),
  constraint workspaces_plan_check CHECK ((plan = ANY (ARRAY['starter'::text, 'pro'::text, 'org'::text]))),
  constraint workspaces_webhook_endpoint_limit_check CHECK (((webhook_endpoint_limit >= 1) AND (webhook_endpoint_limit <= 1000))),
  constraint workspaces_pkey PRIMARY KEY (id)
);
alter table public.workspaces enable row level security;
grant select on public.workspaces to service_role;
grant update (name) on public.workspaces to service_role;

-- Functions

CREATE OR REPLACE FUNCTION public.api_key_excess(k_permissions text[], k_tier text, k_expires_at timestamp with time zone, caller public.api_keys, p_granting boolean)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  excess text[] := array(select distinct p from unnest(k_permissions) as p
                          where p <> all (caller.permissions) order by p);
  tier_exceeds boolean := public.rate_limit_tier_rank(k_tier) > public.rate_limit_tier_rank(caller.rate_limit_tier)
                          or (p_granting and k_tier = 'unmetered');
  expires_exceeds boolean := caller.expires_at is not null
                             and (k_expires_at is null or k_expires_at > caller.expires_at);
begin
  if cardinality(excess) = 0 and not tier_exceeds and not expires_exceeds then
    return null;
  end if;
  return jsonb_build_object('permissions', to_jsonb(excess), 'tier_exceeds', tier_exceeds,
    'expires_exceeds', expires_exceeds, 'rate_limit_tier', k_tier, 'expires_at', public.iso_utc(k_expires_at),
    'caller_rate_limit_tier', caller.rate_limit_tier, 'caller_expires_at', public.iso_utc(caller.expires_at));
end;
$function$;
grant execute on function public.api_key_excess(k_permissions text[], k_tier text, k_expires_at timestamp with time zone, caller public.api_keys, p_granting boolean) to service_role;

CREATE OR REPLACE FUNCTION public.api_key_is_active(k public.api_keys)
 RETURNS boolean
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$ select k.revoked_at is null and (k.expires_at is null or k.expires_at > now()) $function$;
grant execute on function public.api_key_is_active(k public.api_keys) to service_role;

CREATE OR REPLACE FUNCTION public.api_key_json(k public.api_keys)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'id', k.id, 'prefix', k.prefix, 'name', k.name, 'description', k.description, 'permissions', k.permissions,
    'rate_limit_tier', k.rate_limit_tier, 'expires_at', public.iso_utc(k.expires_at),
    'last_used_at', public.iso_utc(k.last_used_at), 'revoked_at', public.iso_utc(k.revoked_at),
    'created_at', public.iso_utc(k.created_at))
$function$;
grant execute on function public.api_key_json(k public.api_keys) to service_role;

CREATE OR REPLACE FUNCTION public.campaign_json(c public.campaigns)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select json_build_object(
    'id', c.id, 'name', c.name, 'description', c.description, 'template', c.template, 'status', c.status,
    'daily_send_limit', c.daily_send_limit, 'delay_between_emails', c.delay_between_emails,
    'sending_timezone', c.sending_timezone, 'send_on_weekends', c.send_on_weekends,
    'track_opens', c.track_opens, 'track_clicks', c.track_clicks, 'show_unsubscribe', c.show_unsubscribe,
    'created_at', public.iso_utc(c.created_at), 'updated_at', public.iso_utc(c.updated_at),
    'started_at', public.iso_utc(c.started_at), 'paused_at', public.iso_utc(c.paused_at))
$function$;
grant execute on function public.campaign_json(c public.campaigns) to service_role;

CREATE OR REPLACE FUNCTION public.claim_webhook_deliveries(p_limit integer, p_lease_seconds double precision, p_endpoint_limit integer DEFAULT 4, p_workspace_limit integer DEFAULT 16, p_max_lost integer DEFAULT 3, p_circuit_after integer DEFAULT 5, p_circuit_base_seconds integer DEFAULT 30, p_circuit_max_seconds integer DEFAULT 3600)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
 SET enable_incremental_sort TO 'off'
AS $function$
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
$function$;
grant execute on function public.claim_webhook_deliveries(p_limit integer, p_lease_seconds double precision, p_endpoint_limit integer, p_workspace_limit integer, p_max_lost integer, p_circuit_after integer, p_circuit_base_seconds integer, p_circuit_max_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.create_api_key(p_workspace_id uuid, p_key_hash text, p_prefix text, p_fields jsonb, p_creator_key_id uuid)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
declare
  k public.api_keys;
  creator public.api_keys;
  excess jsonb;
  tier text := coalesce(p_fields ->> 'rate_limit_tier', 'standard');
begin
  if p_creator_key_id is null and current_user = 'service_role' then
    raise exception 'create_api_key: service_role must name the creating key' using errcode = '42501';
  end if;
  perform 1 from public.workspaces where id = p_workspace_id for no key update;
  if p_creator_key_id is not null then
    select * into creator from public.api_keys a
     where a.id = p_creator_key_id and a.workspace_id = p_workspace_id and public.api_key_is_active(a);
    if not found then
      return json_build_object('outcome', 'creator_inactive');
    end if;
    excess := public.api_key_excess(array(select jsonb_array_elements_text(p_fields -> 'permissions')), tier,
                                    (p_fields ->> 'expires_at')::timestamptz, creator, true);
    if excess is not null then
      return (jsonb_build_object('outcome', 'exceeds_caller') || excess)::json;
    end if;
  end if;
  if exists (select 1 from public.api_keys a
              where a.workspace_id = p_workspace_id and a.name = p_fields ->> 'name'
                and public.api_key_is_active(a)) then
    return json_build_object('outcome', 'duplicate_name');
  end if;
  insert into public.api_keys (workspace_id, key_hash, prefix, name, description, permissions, rate_limit_tier,
                               expires_at)
  values (p_workspace_id, decode(p_key_hash, 'hex'), p_prefix, p_fields ->> 'name', p_fields ->> 'description',
          array(select jsonb_array_elements_text(p_fields -> 'permissions')), tier,
          (p_fields ->> 'expires_at')::timestamptz)
  returning * into k;
  return json_build_object('outcome', 'ok', 'api_key', public.api_key_json(k) - 'last_used_at' - 'revoked_at');
end;
$function$;
grant execute on function public.create_api_key(p_workspace_id uuid, p_key_hash text, p_prefix text, p_fields jsonb, p_creator_key_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.create_campaign(p_workspace_id uuid, p_fields jsonb)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.create_campaign(p_workspace_id uuid, p_fields jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.create_webhook(p_workspace_id uuid, p_fields jsonb, p_secret text)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
declare
  e public.webhook_endpoints;
  endpoint_limit integer;
  violated text;
begin
  select webhook_endpoint_limit into endpoint_limit from public.workspaces where id = p_workspace_id
    for no key update;
  if (select count(*) from public.webhook_endpoints where workspace_id = p_workspace_id and deleted_at is null)
     >= endpoint_limit then
    return json_build_object('outcome', 'limit_reached', 'limit', endpoint_limit);
  end if;
  insert into public.webhook_endpoints (workspace_id, url, events, description, active, secret)
  values (p_workspace_id, p_fields ->> 'url', array(select jsonb_array_elements_text(p_fields -> 'events')),
          p_fields ->> 'description', coalesce((p_fields ->> 'active')::boolean, true), p_secret)
  returning * into e;
  return json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e));
exception when unique_violation then
  get stacked diagnostics violated = constraint_name;
  if violated is distinct from 'webhook_endpoints_url_idx' then
    raise;
  end if;
  return json_build_object('outcome', 'duplicate');
end;
$function$;
grant execute on function public.create_webhook(p_workspace_id uuid, p_fields jsonb, p_secret text) to service_role;

CREATE OR REPLACE FUNCTION public.delete_campaign(p_workspace_id uuid, p_id uuid)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.delete_campaign(p_workspace_id uuid, p_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.delete_webhook(p_workspace_id uuid, p_id uuid)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.delete_webhook(p_workspace_id uuid, p_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.enqueue_webhook_event(p_workspace_id uuid, p_event text, p_data json)
 RETURNS integer
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;
grant execute on function public.enqueue_webhook_event(p_workspace_id uuid, p_event text, p_data json) to service_role;

CREATE OR REPLACE FUNCTION public.gateway_caller_arguments()
 RETURNS jsonb
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$
  select '{"p_workspace_id": "workspace", "p_creator_key_id": "key", "p_revoker_key_id": "key"}'::jsonb
$function$;
grant execute on function public.gateway_caller_arguments() to service_role;

CREATE OR REPLACE FUNCTION public.gateway_operation(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
-- Generated by public.gateway_operation_source() from public.gateway_operations: do not edit.
declare
  a jsonb := coalesce(p_args, '{}');
begin
  case p_rpc
    when 'create_api_key' then
      return public.create_api_key(p_workspace_id, (a ->> 'p_key_hash')::text, (a ->> 'p_prefix')::text, (a -> 'p_fields')::jsonb, p_key_id);
    when 'create_campaign' then
      return public.create_campaign(p_workspace_id, (a -> 'p_fields')::jsonb);
    when 'create_webhook' then
      return public.create_webhook(p_workspace_id, (a -> 'p_fields')::jsonb, (a ->> 'p_secret')::text);
    when 'delete_campaign' then
      return public.delete_campaign(p_workspace_id, (a ->> 'p_id')::uuid);
    when 'delete_webhook' then
      return public.delete_webhook(p_workspace_id, (a ->> 'p_id')::uuid);
    when 'get_campaign' then
      return public.get_campaign(p_workspace_id, (a ->> 'p_id')::uuid);
    when 'get_webhook' then
      return public.get_webhook(p_workspace_id, (a ->> 'p_id')::uuid);
    when 'get_webhook_delivery' then
      return public.get_webhook_delivery(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_delivery_id')::uuid);
    when 'list_api_keys' then
      return public.list_api_keys(p_workspace_id, (a ->> 'p_include_revoked')::boolean, (a ->> 'p_page')::bigint, (a ->> 'p_per_page')::integer, (a ->> 'p_after_created_at')::timestamp with time zone, (a ->> 'p_after_id')::uuid);
    when 'list_campaigns' then
      return public.list_campaigns(p_workspace_id, (a ->> 'p_status')::text, (a ->> 'p_page')::bigint, (a ->> 'p_per_page')::integer, (a ->> 'p_after_created_at')::timestamp with time zone, (a ->> 'p_after_id')::uuid);
    when 'list_webhook_deliveries' then
      return public.list_webhook_deliveries(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_status')::text, (a ->> 'p_page')::bigint, (a ->> 'p_per_page')::integer, (a ->> 'p_after_created_at')::timestamp with time zone, (a ->> 'p_after_id')::uuid);
    when 'list_webhook_logs' then
      return public.list_webhook_logs(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_status')::text, (a ->> 'p_page')::bigint, (a ->> 'p_per_page')::integer, (a ->> 'p_after_created_at')::timestamp with time zone, (a ->> 'p_after_id')::bigint);
    when 'list_webhooks' then
      return public.list_webhooks(p_workspace_id, (a ->> 'p_page')::bigint, (a ->> 'p_per_page')::integer, (a ->> 'p_after_created_at')::timestamp with time zone, (a ->> 'p_after_id')::uuid);
    when 'pause_campaign' then
      return public.pause_campaign(p_workspace_id, (a ->> 'p_id')::uuid);
    when 'recover_webhook_deliveries' then
      return public.recover_webhook_deliveries(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_since')::timestamp with time zone, (a ->> 'p_until')::timestamp with time zone, (a ->> 'p_dry_run')::boolean);
    when 'retry_webhook_delivery' then
      return public.retry_webhook_delivery(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_delivery_id')::uuid);
    when 'revoke_api_key' then
      return public.revoke_api_key(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_admin_permission')::text, p_key_id);
    when 'rotate_webhook_secret' then
      return public.rotate_webhook_secret(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_secret')::text, (a ->> 'p_overlap_seconds')::integer);
    when 'send_test_webhook' then
      return public.send_test_webhook(p_workspace_id, (a ->> 'p_id')::uuid, (a ->> 'p_event')::text);
    when 'start_campaign' then
      return public.start_campaign(p_workspace_id, (a ->> 'p_id')::uuid);
    when 'update_campaign' then
      return public.update_campaign(p_workspace_id, (a ->> 'p_id')::uuid, (a -> 'p_fields')::jsonb);
    when 'update_webhook' then
      return public.update_webhook(p_workspace_id, (a ->> 'p_id')::uuid, (a -> 'p_fields')::jsonb);
    else
      raise exception using errcode = '22023', message = format('%s is not a gateway operation', p_rpc);
  end case;
end;
$function$;
grant execute on function public.gateway_operation(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.gateway_operation_source()
 RETURNS text
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  with args as (
    select g.rpc, a.n,
           case public.gateway_caller_arguments() ->> a.name
             when 'workspace' then 'p_workspace_id'
             when 'key' then 'p_key_id'
             else case when a.type in ('json'::regtype, 'jsonb'::regtype)
                       then format('(a -> %L)::%s', a.name, pg_catalog.format_type(a.type, null))
                       else format('(a ->> %L)::%s', a.name, pg_catalog.format_type(a.type, null)) end
           end as expression
      from public.gateway_operations g
      join pg_catalog.pg_proc p on p.oid = pg_catalog.to_regproc('public.' || quote_ident(g.rpc))
     cross join lateral unnest(p.proargnames, p.proargtypes::oid[]::regtype[]) with ordinality as a(name, type, n)
  ), arms as (
    select rpc, format(E'    when %L then\n      return public.%I(%s);', rpc, rpc,
                       string_agg(expression, ', ' order by n)) as arm
      from args
     group by rpc
  )
  select format($f$create or replace function public.gateway_operation(
  p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb)
returns json
language plpgsql volatile
set search_path = ''
as $body$
-- Generated by public.gateway_operation_source() from public.gateway_operations: do not edit.
declare
  a jsonb := coalesce(p_args, '{}');
begin
  case p_rpc
%s
    else
      raise exception using errcode = '22023', message = format('%%s is not a gateway operation', p_rpc);
  end case;
end;
$body$$f$, string_agg(arm, E'\n' order by rpc))
    from arms
$function$;
grant execute on function public.gateway_operation_source() to service_role;

CREATE OR REPLACE FUNCTION public.gateway_operations_changed()
 RETURNS trigger
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  execute public.gateway_operation_source();
  return null;
end;
$function$;
grant execute on function public.gateway_operations_changed() to service_role;

CREATE OR REPLACE FUNCTION public.gateway_preflight(p_key_hash text, p_permission text)
 RETURNS text
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
declare
  now_ts timestamptz := clock_timestamp();
  k record;
  lim record;
begin
  select * into k from public.key_for_request(p_key_hash, now_ts);
  if not found then
    return 'invalid_key';
  end if;
  if not p_permission = any (k.permissions) then
    return 'refused';
  end if;
  if k.rate_limit_tier <> 'unmetered' then
    select * into lim from public.plan_limits(k.plan, k.rate_limit_tier);
    if public.rate_limit_precheck(k.workspace_id, lim.per_day, lim.per_minute, now_ts) is not null then
      return 'refused';
    end if;
  end if;
  return 'ok';
end;
$function$;
grant execute on function public.gateway_preflight(p_key_hash text, p_permission text) to service_role;

CREATE OR REPLACE FUNCTION public.gateway_request(p_key_hash text, p_permission text, p_rpc text, p_args jsonb, p_idempotency jsonb)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
declare
  now_ts timestamptz := clock_timestamp();
  k record;
  lim record;
  metered boolean;
  identity jsonb;
  auth jsonb;
  permitted boolean;
  run json;
begin
  select * into k from public.key_for_request(p_key_hash, now_ts);
  if not found then
    return json_build_object('auth', json_build_object('outcome', 'invalid_key'));
  end if;
  identity := public.key_identity(k.id, k.workspace_id, k.prefix, k.permissions);
  permitted := p_permission = any (k.permissions);
  metered := k.rate_limit_tier <> 'unmetered';
  if metered then
    select * into lim from public.plan_limits(k.plan, k.rate_limit_tier);
    auth := public.rate_limit_precheck(k.workspace_id, lim.per_day, lim.per_minute, now_ts);
  end if;

  if auth is not null then
    null; -- over a window already: 429, not counted
  elsif not metered then
    auth := jsonb_build_object('outcome', 'ok', 'rate_limit', null);
    if permitted and p_rpc is not null then
      run := public.gateway_run(p_rpc, k.workspace_id, k.id, p_args, p_idempotency, now_ts);
    end if;
  elsif not permitted or p_rpc is null then
    auth := public.rate_limit_count(k.workspace_id, lim.per_day, lim.per_minute, now_ts);
  else
    begin
      run := public.gateway_run(p_rpc, k.workspace_id, k.id, p_args, p_idempotency, now_ts);
      auth := public.rate_limit_count(k.workspace_id, lim.per_day, lim.per_minute, now_ts);
      if auth ->> 'outcome' = 'rate_limited' then
        -- Lost the last slot to a concurrent request: undo the claim and the operation; auth keeps the 429.
        raise exception using errcode = 'LL429';
      end if;
    exception when sqlstate 'LL429' then
      run := null;
    end;
  end if;

  perform public.stamp_key_used(k.id, now_ts);
  if auth ->> 'outcome' = 'rate_limited' then
    return json_build_object('auth', identity || auth);
  end if;
  if not permitted or run is null then
    return json_build_object('auth', identity || auth, 'permitted', permitted);
  end if;
  return json_build_object('auth', identity || auth, 'permitted', true, 'result', run -> 'result',
    'replayed', run -> 'replayed', 'sealed', run -> 'sealed', 'idempotency', run -> 'idempotency');
end;
$function$;
grant execute on function public.gateway_request(p_key_hash text, p_permission text, p_rpc text, p_args jsonb, p_idempotency jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.gateway_run(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb, p_idempotency jsonb, p_now timestamp with time zone)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  claim_key bytea := decode(p_idempotency ->> 'key_hash', 'hex');
  stored public.idempotency_keys;
  op_result json;
begin
  if p_idempotency is not null then
    stored := public.idempotency_claim(p_workspace_id, p_key_id, claim_key,
      decode(p_idempotency ->> 'fingerprint', 'hex'), p_idempotency ->> 'sealed', p_now);
    if stored.workspace_id is not null then
      if stored.api_key_id <> p_key_id or stored.fingerprint <> decode(p_idempotency ->> 'fingerprint', 'hex') then
        return json_build_object('idempotency', 'reused');
      end if;
      return json_build_object('result', stored.result, 'replayed', true, 'sealed', stored.sealed);
    end if;
  end if;
  op_result := public.gateway_operation(p_rpc, p_workspace_id, p_key_id, p_args);
  if p_idempotency is not null then
    update public.idempotency_keys i set result = op_result
     where i.workspace_id = p_workspace_id and i.key_hash = claim_key;
  end if;
  return json_build_object('result', op_result);
end;
$function$;
grant execute on function public.gateway_run(p_rpc text, p_workspace_id uuid, p_key_id uuid, p_args jsonb, p_idempotency jsonb, p_now timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.get_campaign(p_workspace_id uuid, p_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
  select coalesce(
    (select json_build_object('outcome', 'ok', 'campaign', public.campaign_json(c))
       from public.campaigns c where c.id = p_id and c.workspace_id = p_workspace_id),
    json_build_object('outcome', 'not_found'))
$function$;
grant execute on function public.get_campaign(p_workspace_id uuid, p_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.get_webhook(p_workspace_id uuid, p_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
  select coalesce(
    (select json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e))
       from public.webhook_endpoints e
      where e.id = p_id and e.workspace_id = p_workspace_id and e.deleted_at is null),
    json_build_object('outcome', 'not_found'))
$function$;
grant execute on function public.get_webhook(p_workspace_id uuid, p_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.get_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.get_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.health_check()
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$ select jsonb_build_object('status', 'ok') $function$;
grant execute on function public.health_check() to service_role;

CREATE OR REPLACE FUNCTION public.idempotency_claim(p_workspace_id uuid, p_api_key_id uuid, p_key_hash bytea, p_fingerprint bytea, p_sealed text, p_now timestamp with time zone)
 RETURNS public.idempotency_keys
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  existing public.idempotency_keys;
begin
  for attempt in 1..3 loop
    insert into public.idempotency_keys (workspace_id, api_key_id, key_hash, fingerprint, sealed, created_at)
    values (p_workspace_id, p_api_key_id, p_key_hash, p_fingerprint, p_sealed, p_now)
    on conflict do nothing;
    if found then
      return null;
    end if;
    select * into existing from public.idempotency_keys
     where workspace_id = p_workspace_id and key_hash = p_key_hash;
    if found and existing.created_at > p_now - public.idempotency_window() then
      return existing;
    end if;
    delete from public.idempotency_keys
     where workspace_id = p_workspace_id and key_hash = p_key_hash
       and created_at <= p_now - public.idempotency_window();
  end loop;
  raise exception 'idempotency key could not be claimed';
end;
$function$;
grant execute on function public.idempotency_claim(p_workspace_id uuid, p_api_key_id uuid, p_key_hash bytea, p_fingerprint bytea, p_sealed text, p_now timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.idempotency_window()
 RETURNS interval
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$ select interval '24 hours' $function$;
grant execute on function public.idempotency_window() to service_role;

CREATE OR REPLACE FUNCTION public.iso_utc(p_ts timestamp with time zone)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$ select to_char(p_ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $function$;
grant execute on function public.iso_utc(p_ts timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.key_for_request(p_key_hash text, p_now timestamp with time zone)
 RETURNS TABLE(id uuid, workspace_id uuid, prefix text, permissions text[], rate_limit_tier text, last_used_at timestamp with time zone, plan text)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
begin
  return query
  select a.id, a.workspace_id, a.prefix, a.permissions, a.rate_limit_tier, a.last_used_at, w.plan
    from public.api_keys a
    join public.workspaces w on w.id = a.workspace_id
   where a.key_hash = decode(p_key_hash, 'hex')
     and a.revoked_at is null
     and (a.expires_at is null or a.expires_at > p_now);
end;
$function$;
grant execute on function public.key_for_request(p_key_hash text, p_now timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.key_identity(p_id uuid, p_workspace_id uuid, p_prefix text, p_permissions text[])
 RETURNS jsonb
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO ''
AS $function$
begin
  return jsonb_build_object('workspace_id', p_workspace_id, 'key_id', p_id, 'key_prefix', p_prefix,
                            'permissions', to_jsonb(p_permissions));
end;
$function$;
grant execute on function public.key_identity(p_id uuid, p_workspace_id uuid, p_prefix text, p_permissions text[]) to service_role;

CREATE OR REPLACE FUNCTION public.list_api_keys(p_workspace_id uuid, p_include_revoked boolean, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.list_api_keys(p_workspace_id uuid, p_include_revoked boolean, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.list_campaigns(p_workspace_id uuid, p_status text, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.list_campaigns(p_workspace_id uuid, p_status text, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.list_position(p_created_at timestamp with time zone, p_id anyelement)
 RETURNS json
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$
  select json_build_object('created_at', to_char(p_created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'id', p_id::text)
$function$;
grant execute on function public.list_position(p_created_at timestamp with time zone, p_id anyelement) to service_role;

CREATE OR REPLACE FUNCTION public.list_webhook_deliveries(p_workspace_id uuid, p_id uuid, p_status text, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.list_webhook_deliveries(p_workspace_id uuid, p_id uuid, p_status text, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.list_webhook_logs(p_workspace_id uuid, p_id uuid, p_status text, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id bigint)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.list_webhook_logs(p_workspace_id uuid, p_id uuid, p_status text, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id bigint) to service_role;

CREATE OR REPLACE FUNCTION public.list_webhooks(p_workspace_id uuid, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.list_webhooks(p_workspace_id uuid, p_page bigint, p_per_page integer, p_after_created_at timestamp with time zone, p_after_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.pause_campaign(p_workspace_id uuid, p_id uuid)
 RETURNS json
 LANGUAGE sql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
  select public.transition_campaign(p_workspace_id, p_id, array['active', 'pending_approval'], 'paused',
                                    'campaign.paused', 'not_active')
$function$;
grant execute on function public.pause_campaign(p_workspace_id uuid, p_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.plan_limits(p_plan text, p_tier text, OUT per_day integer, OUT per_minute integer)
 RETURNS record
 LANGUAGE plpgsql
 IMMUTABLE
 SET search_path TO ''
AS $function$
begin
  select l.per_day * m.factor, l.per_minute * m.factor
    into per_day, per_minute
    from (values ('starter', 100, 10), ('pro', 1000, 50), ('org', 10000, 200)) as l (plan, per_day, per_minute)
    cross join (select case p_tier when 'high' then 10 else 1 end as factor) as m
   where l.plan = p_plan;
end;
$function$;
grant execute on function public.plan_limits(p_plan text, p_tier text, OUT per_day integer, OUT per_minute integer) to service_role;

CREATE OR REPLACE FUNCTION public.prune_idempotency_keys(p_batch integer, p_rounds integer)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  cutoff timestamptz := now() - public.idempotency_window();
  total bigint := 0;
  deleted bigint;
begin
  for round in 1..p_rounds loop
    delete from public.idempotency_keys
     where ctid = any (array(select i.ctid
                                from public.idempotency_keys i
                               where i.created_at <= cutoff
                               order by i.created_at
                               limit p_batch));
    get diagnostics deleted = row_count;
    total := total + deleted;
    exit when deleted < p_batch;
  end loop;
  return json_build_object('idempotency_keys', total);
end;
$function$;
grant execute on function public.prune_idempotency_keys(p_batch integer, p_rounds integer) to service_role;

CREATE OR REPLACE FUNCTION public.prune_webhook_history(p_keep_days integer, p_batch integer, p_rounds integer)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  cutoff timestamptz := now() - make_interval(days => p_keep_days);
  n_attempts bigint := 0;
  n_deliveries bigint := 0;
  n_events bigint := 0;
  deleted bigint;
  progress bigint;
begin
  for round in 1..p_rounds loop
    progress := 0;
    -- The batch's deliveries as an array, so that their attempts are looked up by delivery_id whatever the
    -- planner guesses: the function's statements are planned without the cutoff's value after a few calls, and
    -- as a join this one then read every attempt (measured: 0.5-0.8 s a batch on 5 M attempts).
    delete from public.webhook_attempts
     where ctid = any (array(select a.ctid
                               from public.webhook_attempts a
                              where a.delivery_id = any (array(select d.id
                                                                  from public.webhook_deliveries d
                                                                 where d.created_at < cutoff and d.status <> 'pending'
                                                                 order by d.created_at
                                                                 limit p_batch))
                                and a.created_at < cutoff
                              limit p_batch));
    get diagnostics deleted = row_count;
    n_attempts := n_attempts + deleted;
    progress := progress + deleted;

    delete from public.webhook_deliveries
     where ctid = any (array(select d.ctid
                               from public.webhook_deliveries d
                              where d.created_at < cutoff and d.status <> 'pending'
                              order by d.created_at
                              limit p_batch));
    get diagnostics deleted = row_count;
    n_deliveries := n_deliveries + deleted;
    progress := progress + deleted;

    delete from public.webhook_events
     where ctid = any (array(select ev.ctid
                               from public.webhook_events ev
                              where ev.occurred_at < cutoff
                                and not exists (select 1 from public.webhook_deliveries d where d.event_id = ev.id)
                              order by ev.occurred_at
                              limit p_batch));
    get diagnostics deleted = row_count;
    n_events := n_events + deleted;
    progress := progress + deleted;
    exit when progress = 0;
  end loop;
  return json_build_object('attempts', n_attempts, 'deliveries', n_deliveries, 'events', n_events);
end;
$function$;
grant execute on function public.prune_webhook_history(p_keep_days integer, p_batch integer, p_rounds integer) to service_role;

CREATE OR REPLACE FUNCTION public.rate_limit_answer(p_per_day integer, p_per_minute integer, p_day_used integer, p_minute_used integer, p_refused boolean, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  next_day timestamptz := (((p_now at time zone 'UTC')::date + 1)::timestamp at time zone 'UTC');
  next_minute timestamptz := date_trunc('minute', p_now) + interval '1 minute';
  reset_at timestamptz := case when p_day_used >= p_per_day then next_day else next_minute end;
  answer jsonb;
begin
  answer := jsonb_build_object(
    'outcome', case when p_refused then 'rate_limited' else 'ok' end,
    'rate_limit', jsonb_build_object('limit', p_per_day, 'remaining', greatest(p_per_day - p_day_used, 0),
      'reset', extract(epoch from next_day)::bigint,
      'windows', jsonb_build_array(
        jsonb_build_object('name', 'day', 'quota', p_per_day, 'seconds', 86400,
          'remaining', greatest(p_per_day - p_day_used, 0),
          'reset_in', greatest(ceil(extract(epoch from next_day - p_now)), 1)::integer),
        jsonb_build_object('name', 'minute', 'quota', p_per_minute, 'seconds', 60,
          'remaining', greatest(p_per_minute - p_minute_used, 0),
          'reset_in', greatest(ceil(extract(epoch from next_minute - p_now)), 1)::integer))));
  if p_refused then
    answer := answer || jsonb_build_object(
      'reset_at', to_char(reset_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
      'retry_after', greatest(ceil(extract(epoch from reset_at - p_now)), 1)::integer);
  end if;
  return answer;
end;
$function$;
grant execute on function public.rate_limit_answer(p_per_day integer, p_per_minute integer, p_day_used integer, p_minute_used integer, p_refused boolean, p_now timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.rate_limit_count(p_workspace_id uuid, p_per_day integer, p_per_minute integer, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
declare
  today date := (p_now at time zone 'UTC')::date;
  this_minute timestamptz := date_trunc('minute', p_now);
  counted record;
  u record;
begin
  insert into public.rate_limit_counters as r (workspace_id, day_start, day_count, minute_start, minute_count)
  values (p_workspace_id, today, 1, this_minute, 1)
  on conflict (workspace_id) do update set
    day_count = case when r.day_start >= excluded.day_start then r.day_count + 1 else 1 end,
    day_start = greatest(r.day_start, excluded.day_start),
    minute_count = case when r.minute_start >= excluded.minute_start then r.minute_count + 1 else 1 end,
    minute_start = greatest(r.minute_start, excluded.minute_start)
  where (r.day_start < excluded.day_start or r.day_count < p_per_day)
    and (r.minute_start < excluded.minute_start or r.minute_count < p_per_minute)
  returning r.day_count, r.minute_count into counted;
  if found then
    return public.rate_limit_answer(p_per_day, p_per_minute, counted.day_count, counted.minute_count, false, p_now);
  end if;
  select * into u from public.rate_limit_usage(p_workspace_id, p_now);
  return public.rate_limit_answer(p_per_day, p_per_minute, u.day_used, u.minute_used, true, p_now);
end;
$function$;
grant execute on function public.rate_limit_count(p_workspace_id uuid, p_per_day integer, p_per_minute integer, p_now timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.rate_limit_precheck(p_workspace_id uuid, p_per_day integer, p_per_minute integer, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
declare
  u record;
begin
  select * into u from public.rate_limit_usage(p_workspace_id, p_now);
  if u.day_used >= p_per_day or u.minute_used >= p_per_minute then
    return public.rate_limit_answer(p_per_day, p_per_minute, u.day_used, u.minute_used, true, p_now);
  end if;
  return null;
end;
$function$;
grant execute on function public.rate_limit_precheck(p_workspace_id uuid, p_per_day integer, p_per_minute integer, p_now timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.rate_limit_tier_rank(p_tier text)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$ select array_position(array['standard', 'high', 'unmetered'], p_tier) - 1 $function$;
grant execute on function public.rate_limit_tier_rank(p_tier text) to service_role;

CREATE OR REPLACE FUNCTION public.rate_limit_usage(p_workspace_id uuid, p_now timestamp with time zone, OUT day_used integer, OUT minute_used integer)
 RETURNS record
 LANGUAGE plpgsql
 STABLE
 SET search_path TO ''
AS $function$
begin
  select coalesce(max(r.day_count) filter (where r.day_start = (p_now at time zone 'UTC')::date), 0),
         coalesce(max(r.minute_count) filter (where r.minute_start = date_trunc('minute', p_now)), 0)
    into day_used, minute_used
    from public.rate_limit_counters r
   where r.workspace_id = p_workspace_id;
end;
$function$;
grant execute on function public.rate_limit_usage(p_workspace_id uuid, p_now timestamp with time zone, OUT day_used integer, OUT minute_used integer) to service_role;

CREATE OR REPLACE FUNCTION public.record_webhook_attempt(p_delivery_id uuid, p_attempt integer, p_status_code integer, p_error text, p_response_body text, p_duration_ms integer, p_retry_in_ms integer, p_spends boolean DEFAULT true, p_window_ms integer DEFAULT NULL::integer, p_disable_after_seconds integer DEFAULT 432000, p_circuit_after integer DEFAULT 5, p_circuit_base_seconds integer DEFAULT 30, p_circuit_max_seconds integer DEFAULT 3600)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.record_webhook_attempt(p_delivery_id uuid, p_attempt integer, p_status_code integer, p_error text, p_response_body text, p_duration_ms integer, p_retry_in_ms integer, p_spends boolean, p_window_ms integer, p_disable_after_seconds integer, p_circuit_after integer, p_circuit_base_seconds integer, p_circuit_max_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.recover_webhook_deliveries(p_workspace_id uuid, p_id uuid, p_since timestamp with time zone, p_until timestamp with time zone, p_dry_run boolean)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.recover_webhook_deliveries(p_workspace_id uuid, p_id uuid, p_since timestamp with time zone, p_until timestamp with time zone, p_dry_run boolean) to service_role;

CREATE OR REPLACE FUNCTION public.resolve_api_key(p_key_hash text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
declare
  now_ts timestamptz := clock_timestamp();
  k record;
  lim record;
  rate jsonb;
begin
  select * into k from public.key_for_request(p_key_hash, now_ts);
  if not found then
    return jsonb_build_object('outcome', 'invalid_key');
  end if;
  perform public.stamp_key_used(k.id, now_ts);
  if k.rate_limit_tier = 'unmetered' then
    return public.key_identity(k.id, k.workspace_id, k.prefix, k.permissions)
      || jsonb_build_object('outcome', 'ok', 'rate_limit', null);
  end if;
  select * into lim from public.plan_limits(k.plan, k.rate_limit_tier);
  rate := coalesce(public.rate_limit_precheck(k.workspace_id, lim.per_day, lim.per_minute, now_ts),
                   public.rate_limit_count(k.workspace_id, lim.per_day, lim.per_minute, now_ts));
  return public.key_identity(k.id, k.workspace_id, k.prefix, k.permissions) || rate;
end;
$function$;
grant execute on function public.resolve_api_key(p_key_hash text) to service_role;

CREATE OR REPLACE FUNCTION public.retry_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.retry_webhook_delivery(p_workspace_id uuid, p_id uuid, p_delivery_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.revoke_api_key(p_workspace_id uuid, p_id uuid, p_admin_permission text, p_revoker_key_id uuid)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
declare
  k public.api_keys;
  revoker public.api_keys;
  excess jsonb;
begin
  if p_revoker_key_id is null and current_user = 'service_role' then
    raise exception 'revoke_api_key: service_role must name the revoking key' using errcode = '42501';
  end if;
  perform 1 from public.workspaces where id = p_workspace_id for no key update;
  select * into k from public.api_keys where id = p_id and workspace_id = p_workspace_id and revoked_at is null;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if p_revoker_key_id is not null then
    select * into revoker from public.api_keys a
     where a.id = p_revoker_key_id and a.workspace_id = p_workspace_id and public.api_key_is_active(a);
    if not found then
      return json_build_object('outcome', 'creator_inactive');
    end if;
    excess := public.api_key_excess(k.permissions, k.rate_limit_tier, k.expires_at, revoker, false);
    if excess is not null then
      return (jsonb_build_object('outcome', 'exceeds_caller') || excess)::json;
    end if;
  end if;
  if public.api_key_is_active(k) and p_admin_permission = any (k.permissions)
     and not exists (select 1 from public.api_keys a
                      where a.workspace_id = p_workspace_id and a.id <> p_id and public.api_key_is_active(a)
                        and p_admin_permission = any (a.permissions)
                        and (a.expires_at is null or a.expires_at >= k.expires_at)) then
    return json_build_object('outcome', 'last_admin_key');
  end if;
  update public.api_keys set revoked_at = now() where id = p_id;
  return json_build_object('outcome', 'ok');
end;
$function$;
grant execute on function public.revoke_api_key(p_workspace_id uuid, p_id uuid, p_admin_permission text, p_revoker_key_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.rotate_webhook_secret(p_workspace_id uuid, p_id uuid, p_secret text, p_overlap_seconds integer)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
  return json_build_object('outcome', 'ok', 'webhook', public.webhook_json(e));
end;
$function$;
grant execute on function public.rotate_webhook_secret(p_workspace_id uuid, p_id uuid, p_secret text, p_overlap_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.send_test_webhook(p_workspace_id uuid, p_id uuid, p_event text)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.send_test_webhook(p_workspace_id uuid, p_id uuid, p_event text) to service_role;

CREATE OR REPLACE FUNCTION public.stamp_key_used(p_key_id uuid, p_now timestamp with time zone)
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
begin
  update public.api_keys set last_used_at = p_now
   where id = (select a.id from public.api_keys a
                where a.id = p_key_id
                  and (a.last_used_at is null or a.last_used_at < p_now - interval '1 minute')
                  for update skip locked);
end;
$function$;
grant execute on function public.stamp_key_used(p_key_id uuid, p_now timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.start_campaign(p_workspace_id uuid, p_id uuid)
 RETURNS json
 LANGUAGE sql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
  select public.transition_campaign(p_workspace_id, p_id, array['draft', 'paused'], 'active', 'campaign.started',
                                    'not_startable')
$function$;
grant execute on function public.start_campaign(p_workspace_id uuid, p_id uuid) to service_role;

CREATE OR REPLACE FUNCTION public.transition_campaign(p_workspace_id uuid, p_id uuid, p_from text[], p_to text, p_event text, p_refusal text)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;
grant execute on function public.transition_campaign(p_workspace_id uuid, p_id uuid, p_from text[], p_to text, p_event text, p_refusal text) to service_role;

CREATE OR REPLACE FUNCTION public.update_campaign(p_workspace_id uuid, p_id uuid, p_fields jsonb)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
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
$function$;
grant execute on function public.update_campaign(p_workspace_id uuid, p_id uuid, p_fields jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.update_webhook(p_workspace_id uuid, p_id uuid, p_fields jsonb)
 RETURNS json
 LANGUAGE plpgsql
 SET search_path TO ''
 SET statement_timeout TO '4s'
AS $function$
declare
  e public.webhook_endpoints;
  violated text;
  new_active boolean := (p_fields ->> 'active')::boolean;
begin
  update public.webhook_endpoints set
    url = coalesce(p_fields ->> 'url', url),
    events = case when p_fields ? 'events'
                  then array(select jsonb_array_elements_text(p_fields -> 'events')) else events end,
    description = case when p_fields ? 'description' then p_fields ->> 'description' else description end,
    active = coalesce(new_active, active),
    disabled_reason = case when new_active is not null and new_active <> active then null else disabled_reason end,
    failing_since = case when new_active and not active then null else failing_since end,
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
$function$;
grant execute on function public.update_webhook(p_workspace_id uuid, p_id uuid, p_fields jsonb) to service_role;

CREATE OR REPLACE FUNCTION public.uuid_v7(p_at timestamp with time zone DEFAULT clock_timestamp())
 RETURNS uuid
 LANGUAGE sql
 PARALLEL SAFE
 SET search_path TO ''
AS $function$
  -- A version 4 uuid (random, variant 10) whose first 48 bits become the milliseconds since the epoch and whose
  -- version nibble becomes 7 (bits 4 and 5 of byte 6 added to 4's 0100).
  select pg_catalog.encode(
           pg_catalog.set_bit(pg_catalog.set_bit(
             overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                     placing substring(pg_catalog.int8send(pg_catalog.floor(extract(epoch from p_at) * 1000)::bigint)
                                       from 3)
                     from 1 for 6),
             52, 1), 53, 1),
           'hex')::uuid
$function$;
grant execute on function public.uuid_v7(p_at timestamp with time zone) to service_role;

CREATE OR REPLACE FUNCTION public.webhook_attempt_json(a public.webhook_attempts, p_event text)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select json_build_object(
    'delivery_id', a.delivery_id, 'event', p_event, 'attempt', a.attempt, 'status', a.status,
    'status_code', a.status_code, 'error', a.error, 'response_body', a.response_body,
    'duration_ms', a.duration_ms, 'created_at', public.iso_utc(a.created_at),
    'next_attempt_at', public.iso_utc(a.next_attempt_at))
$function$;
grant execute on function public.webhook_attempt_json(a public.webhook_attempts, p_event text) to service_role;

CREATE OR REPLACE FUNCTION public.webhook_circuit_open_seconds(p_opens integer, p_base_seconds integer, p_max_seconds integer)
 RETURNS integer
 LANGUAGE sql
 IMMUTABLE
 SET search_path TO ''
AS $function$
  select least(p_max_seconds::bigint, p_base_seconds::bigint * (2::bigint ^ least(greatest(p_opens - 1, 0), 30)))::integer
$function$;
grant execute on function public.webhook_circuit_open_seconds(p_opens integer, p_base_seconds integer, p_max_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.webhook_delivery_due()
 RETURNS boolean
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select exists (
    select 1
      from public.webhook_deliveries d
     where d.status = 'pending'
       and d.next_attempt_at <= now()
       and (d.lease_expires_at is null or d.lease_expires_at <= now()))
$function$;
grant execute on function public.webhook_delivery_due() to service_role;

CREATE OR REPLACE FUNCTION public.webhook_delivery_json(d public.webhook_deliveries)
 RETURNS json
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
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
$function$;
grant execute on function public.webhook_delivery_json(d public.webhook_deliveries) to service_role;

CREATE OR REPLACE FUNCTION public.webhook_dispatch_fan_out(p_per_invocation integer, p_max integer)
 RETURNS integer
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select ceil(count(*)::numeric / p_per_invocation)::integer
    from (select 1
            from public.webhook_deliveries d
           where d.status = 'pending'
             and d.next_attempt_at <= now()
             and (d.lease_expires_at is null or d.lease_expires_at <= now())
           limit p_per_invocation * p_max) as due
$function$;
grant execute on function public.webhook_dispatch_fan_out(p_per_invocation integer, p_max integer) to service_role;

CREATE OR REPLACE FUNCTION public.webhook_endpoint_attempted(p_endpoint_id uuid, p_ok boolean, p_circuit_after integer, p_circuit_base_seconds integer, p_circuit_max_seconds integer)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 SET search_path TO ''
AS $function$
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
$function$;
grant execute on function public.webhook_endpoint_attempted(p_endpoint_id uuid, p_ok boolean, p_circuit_after integer, p_circuit_base_seconds integer, p_circuit_max_seconds integer) to service_role;

CREATE OR REPLACE FUNCTION public.webhook_json(e public.webhook_endpoints)
 RETURNS jsonb
 LANGUAGE sql
 STABLE
 SET search_path TO ''
AS $function$
  select jsonb_build_object(
    'id', e.id, 'url', e.url, 'events', e.events, 'description', e.description, 'active', e.active,
    'disabled_reason', case when e.active then null else e.disabled_reason end,
    'created_at', public.iso_utc(e.created_at), 'updated_at', public.iso_utc(e.updated_at))
$function$;
grant execute on function public.webhook_json(e public.webhook_endpoints) to service_role;

CREATE OR REPLACE FUNCTION public.webhook_url_digest(p_url text)
 RETURNS bytea
 LANGUAGE sql
 IMMUTABLE STRICT
 SET search_path TO ''
AS $function$ select pg_catalog.sha256(pg_catalog.convert_to(p_url, 'UTF8')) $function$;
grant execute on function public.webhook_url_digest(p_url text) to service_role;
