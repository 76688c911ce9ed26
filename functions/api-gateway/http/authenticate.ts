import { createMiddleware } from "hono/factory";
import type { Caller, GatewayEnv } from "../context.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";
import { ApiError } from "@shared/http/errors.ts";
import { displayPrefix, hashApiKey, isWellFormedApiKey } from "@shared/auth/api-key.ts";
import { bearerToken } from "@shared/auth/bearer.ts";
import type { Permission } from "@shared/auth/permissions.ts";

/** One answer for unknown, malformed, expired and revoked keys alike (api.md section 2). */
export const invalidKey = (): ApiError => new ApiError("invalid_key", "Invalid or expired API key");

/**
 * Resolves the bearer key (one RPC, which also counts the rate limit) and stores the caller on the context.
 * Malformed keys are refused before any database call. Rate-limit headers go on every response after this,
 * errors included.
 */
export const authenticate = createMiddleware<GatewayEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("authorization"));
  if (token === undefined) {
    throw new ApiError("missing_auth", "Missing Authorization header. Use: Authorization: Bearer wbk_...");
  }
  if (!isWellFormedApiKey(token)) {
    throw invalidKey();
  }
  c.set("logIdentity", { keyPrefix: displayPrefix(token) });

  const resolution = await c.var.services.db.rpc("resolve_api_key", {
    p_key_hash: await hashApiKey(token),
  });
  if (resolution.outcome === "invalid_key") {
    throw invalidKey();
  }
  c.set("logIdentity", { keyPrefix: resolution.key_prefix, workspaceId: resolution.workspace_id });
  if (resolution.outcome === "rate_limited") {
    throw new ApiError("rate_limited", `Rate limit exceeded. Resets at ${resolution.reset_at}`, {
      headers: { ...rateLimitHeaders(resolution.rate_limit), "Retry-After": String(resolution.retry_after) },
    });
  }

  const caller: Caller = {
    workspaceId: resolution.workspace_id,
    keyId: resolution.key_id,
    keyPrefix: resolution.key_prefix,
    permissions: resolution.permissions,
    rateLimit: resolution.rate_limit,
  };
  c.set("caller", caller);
  await next();
  if (caller.rateLimit) {
    for (const [name, value] of Object.entries(rateLimitHeaders(caller.rateLimit))) c.res.headers.set(name, value);
  }
});

/** Refuses with 403 unless the authenticated key carries `permission`. */
export function requirePermission(permission: Permission) {
  return createMiddleware<GatewayEnv>(async (c, next) => {
    if (!c.get("caller")?.permissions.includes(permission)) {
      throw new ApiError("insufficient_permissions", `Missing required permission: ${permission}`);
    }
    await next();
  });
}

/** Authentication, rate limit and permission, in the contract's order, for one route. */
export function protect(permission: Permission) {
  return [authenticate, requirePermission(permission)] as const;
}
