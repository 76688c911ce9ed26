-- POST /v1/webhooks/{id}/recover: the endpoint's failed deliveries created in [p_since, p_until) (no upper bound
-- when p_until is null) start over as retry_webhook_delivery (20261130001000) restarts one: pending, due now, no
-- attempts spent, same delivery ids so receivers deduplicate. p_dry_run only counts.
-- Returns {"outcome": "ok", "count": N, "requeued": N, or 0 on a dry run} or {"outcome": "not_found"}.
create function public.recover_webhook_deliveries(
  p_workspace_id uuid, p_id uuid, p_since timestamptz, p_until timestamptz, p_dry_run boolean)
returns json
language plpgsql volatile
set search_path = ''
as $$
declare
  n integer;
begin
  perform 1 from public.webhook_endpoints
    where id = p_id and workspace_id = p_workspace_id and deleted_at is null
    for share;
  if not found then
    return json_build_object('outcome', 'not_found');
  end if;
  if p_dry_run then
    select count(*) into n from public.webhook_deliveries
     where endpoint_id = p_id and status = 'failed'
       and created_at >= p_since and (p_until is null or created_at < p_until);
    return json_build_object('outcome', 'ok', 'count', n, 'requeued', 0);
  end if;
  update public.webhook_deliveries
     set status = 'pending', attempts = 0, spent_attempts = 0, window_ends_at = null, next_attempt_at = now(),
         lease_expires_at = null, completed_at = null
   where endpoint_id = p_id and status = 'failed'
     and created_at >= p_since and (p_until is null or created_at < p_until);
  get diagnostics n = row_count;
  return json_build_object('outcome', 'ok', 'count', n, 'requeued', n);
end;
$$;

revoke execute on function public.recover_webhook_deliveries(uuid, uuid, timestamptz, timestamptz, boolean)
  from public, anon, authenticated;
grant execute on function public.recover_webhook_deliveries(uuid, uuid, timestamptz, timestamptz, boolean)
  to service_role;
