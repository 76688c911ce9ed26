-- Nothing an anonymous caller can steer runs before its key is known (issue 17): a webhook URL's host name is
-- resolved only for a request this function admits. It is the read-only half of gateway_request (no count, no
-- stamp, no lock), asked first by the writes that carry a host name to resolve; gateway_request then judges the
-- request again, in the contract's order, and counts it. Answer: 'ok' (an active key with the permission, its
-- workspace under both windows), 'invalid_key' (unknown, revoked or expired: the 401 needs no second call), or
-- 'refused' (gateway_request will answer the 429 or 403).
create function public.gateway_preflight(p_key_hash text, p_permission text)
returns text
language plpgsql stable
set search_path = ''
as $$
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
$$;

revoke execute on function public.gateway_preflight(text, text) from public, anon, authenticated;
grant execute on function public.gateway_preflight(text, text) to service_role;
