-- The database gives up before the functions' seam does, so a 503 never hides a commit. Through PostgREST a
-- statement runs under service_role's statement_timeout (8 s on hosted projects), longer than the seam waits (5 s,
-- DEFAULT_RPC_TIMEOUT_MS): a write the caller was told failed could still commit seconds later. A function's own
-- SET clause is what PostgREST applies as a transaction-scoped setting before the call (PostgREST "Function
-- settings"; Supabase's Timeouts guide, "Function level"), so each RPC below ends server-side by 4 s, leaving 1 s
-- for the HTTP hops. A `set local statement_timeout` inside the body would not do: the timer of the statement
-- already running is armed when it starts (measured: a function that sleeps 1 s under a 300 ms SET clause or a SET
-- LOCAL in its body, called directly, returns after 1 s; with the setting made by a statement before the call it
-- fails with 57014 after 300 ms). The direct-driver seam sets statement_timeout on its connections instead.
-- Not here: prune_webhook_history and prune_idempotency_keys, which pg_cron and the local runner call as the owner.
do $do$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public'
       and p.proname = any (array[
         'health_check', 'resolve_api_key', 'gateway_request', 'gateway_preflight', 'create_api_key', 'list_api_keys',
         'revoke_api_key', 'list_campaigns', 'get_campaign', 'create_campaign', 'update_campaign', 'start_campaign',
         'pause_campaign', 'delete_campaign', 'list_webhooks', 'get_webhook', 'create_webhook', 'update_webhook',
         'delete_webhook', 'list_webhook_logs', 'list_webhook_deliveries', 'get_webhook_delivery',
         'send_test_webhook', 'retry_webhook_delivery', 'recover_webhook_deliveries', 'rotate_webhook_secret',
         'claim_webhook_deliveries', 'record_webhook_attempt'])
  loop
    execute format('alter function %s set statement_timeout = %L', f, '4s');
  end loop;
end
$do$;
