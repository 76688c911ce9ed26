-- The duplicate-URL rule indexed the URL itself, and a btree entry cannot exceed about 2.7 kB: a URL whose
-- normalised form outgrew that (percent-encoding triples non-ASCII bytes) failed with a 500 instead of a 400. The
-- index now holds the SHA-256 of the URL, a fixed 32 bytes, under the same name, which create_webhook and
-- update_webhook recognise as the duplicate outcome. The gateway limits URLs to 2048 bytes once normalised.

-- convert_to is only STABLE because an encoding name could be redefined; with the fixed name 'UTF8' the result
-- never changes, which is what an index expression needs.
create function public.webhook_url_digest(p_url text)
returns bytea
language sql immutable strict
set search_path = ''
as $$ select pg_catalog.sha256(pg_catalog.convert_to(p_url, 'UTF8')) $$;

revoke execute on function public.webhook_url_digest(text) from public, anon, authenticated;
grant execute on function public.webhook_url_digest(text) to service_role;

drop index public.webhook_endpoints_url_idx;
create unique index webhook_endpoints_url_idx
  on public.webhook_endpoints (workspace_id, public.webhook_url_digest(url)) where deleted_at is null;
