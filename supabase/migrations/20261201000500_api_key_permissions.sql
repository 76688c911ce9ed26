-- A key's permissions are the gateway's own names (functions/_shared/auth/permissions.ts; tests/db/shared-facts
-- compares the two). Until now only the API and the admin CLI checked them; a NULL element written by hand made
-- gateway_request's `p_permission = any (permissions)` NULL rather than false, which its metered path let through.
-- `<@` is false for an array holding a NULL, so this refuses that too.
alter table public.api_keys add constraint api_keys_permissions_known
  check (permissions <@ array['campaigns:read', 'campaigns:write', 'webhooks:read', 'webhooks:write', 'admin:api_keys']::text[]);
