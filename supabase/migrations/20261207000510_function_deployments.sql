-- What `npm run deploy` last deployed of each function: a SHA-256 over the files its upload is made of, so that a
-- second run deploys only a function whose source changed (the Management API keeps no digest of the source, only
-- of the bundle it builds). Written and read by the deploy as the database owner; no API role sees it.
create table public.function_deployments (
  slug text primary key,
  source_sha256 text not null check (source_sha256 ~ '^[0-9a-f]{64}$'),
  deployed_at timestamptz not null default now()
);

alter table public.function_deployments enable row level security;
revoke all on table public.function_deployments from public, anon, authenticated, service_role;
