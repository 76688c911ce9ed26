// The request's one database call: gateway_request checks the key, counts the rate limit and the permission, and
// runs the operation in the same transaction (docs/api-behaviour.md, "Requests and errors"). This module reads the
// presented key, makes the call and turns its verdict into the contract's answers and headers.
import { displayPrefix, hashApiKey } from "@shared/auth/api-key.ts";
import { bearerToken, hasSeveralCredentials } from "@shared/auth/bearer.ts";
import type { Permission } from "@shared/auth/permissions.ts";
import type { GatewayAnswer, RpcArgs, RpcName, RpcResult } from "@shared/db/rpc-catalogue.ts";
import { ApiError } from "@shared/http/errors.ts";
import { excerpt } from "@shared/http/excerpt.ts";
import type { GatewayContext } from "../context.ts";
import { AUTH_REALM, HEADER } from "../openapi/components.ts";
import { queuedDeliveries } from "../wake-dispatcher.ts";
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_WINDOW_HOURS } from "./idempotency.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";

/**
 * Arguments gateway_request fills in from the key it resolves, never from the request: the key's workspace, or
 * the key itself. SQL binds the same names (gateway_caller_arguments; tests/db/gateway-operations.test.ts).
 */
export const CALLER_ARGUMENTS = {
  p_workspace_id: "workspace",
  p_creator_key_id: "key",
  p_revoker_key_id: "key",
} as const;

/** What an operation passes to its RPC: everything but the caller's workspace and key. */
export type OperationArgs<N extends RpcName> = Omit<RpcArgs<N>, keyof typeof CALLER_ARGUMENTS>;

/** One operation's call, as gateway_request runs it. */
export interface OperationCall<N extends RpcName = RpcName> {
  rpc: N;
  args: OperationArgs<N>;
}

/**
 * RFC 6750's challenge on every 401: the bare realm when no bearer credential came, with `error` when one did
 * (`invalid_token`) or the request held several (`invalid_request`).
 */
const challenge = (error?: "invalid_token" | "invalid_request") => ({
  [HEADER.wwwAuthenticate]: `Bearer realm="${AUTH_REALM}"${error ? `, error="${error}"` : ""}`,
});

/** One answer for unknown, malformed, expired and revoked keys alike (docs/api-behaviour.md, "Requests and errors"). */
export const invalidKey = (): ApiError =>
  new ApiError("invalid_key", "Invalid or expired API key", { headers: challenge("invalid_token") });

/** What the 401 says of an Authorization header that is not `Bearer <token>`: the scheme it has, if any. */
function notBearer(authorization: string | undefined): string {
  const scheme = /^\s*(\S+)\s+\S/.exec(authorization ?? "")?.[1];
  const use = "Use: Authorization: Bearer wbk_...";
  if (!authorization?.trim()) return `Missing Authorization header. ${use}`;
  if (scheme && scheme.toLowerCase() !== "bearer") {
    return `Authorization scheme ${excerpt(scheme)} is not supported. ${use}`;
  }
  return `Authorization header is not of the form Bearer <key>. ${use}`;
}

/**
 * The SHA-256 of the bearer key; 401 without one, without a database call. A token that cannot be a key never
 * gets here: refuseMalformedKey (malformed-key.ts) answers it before the route is looked up.
 */
export function presentedKey(c: GatewayContext): string {
  const authorization = c.req.header("authorization");
  // The runtime joins repeated headers with ", "; which of them would win depends on the proxy in between.
  if (hasSeveralCredentials(authorization)) {
    throw new ApiError(
      "missing_auth",
      "More than one Authorization header. Send exactly one: Authorization: Bearer wbk_...",
      {
        headers: challenge("invalid_request"),
      },
    );
  }
  const token = bearerToken(authorization);
  if (token === undefined) throw new ApiError("missing_auth", notBearer(authorization), { headers: challenge() });
  c.set("logIdentity", { keyPrefix: displayPrefix(token) });
  return hashApiKey(token);
}

/**
 * Turns gateway_request's verdict into the contract's 401, 429, 403 or 422, in that order; once the key is known,
 * the log line names it and every later answer carries its rate-limit headers (and a replay its mark).
 */
function admit(c: GatewayContext, answer: GatewayAnswer, permission: Permission): void {
  const resolution = answer.auth;
  if (resolution.outcome === "invalid_key") throw invalidKey();
  c.set("logIdentity", { keyPrefix: resolution.key_prefix, workspaceId: resolution.workspace_id });
  if (resolution.outcome === "rate_limited") {
    throw new ApiError("rate_limited", `Rate limit exceeded. Resets at ${resolution.reset_at}`, {
      headers: { ...rateLimitHeaders(resolution.rate_limit), "Retry-After": String(resolution.retry_after) },
    });
  }
  if (resolution.rate_limit) Object.assign(c.var.responseHeaders, rateLimitHeaders(resolution.rate_limit));
  if (!answer.permitted) {
    throw new ApiError("insufficient_permissions", `Missing required permission: ${permission}`);
  }
  if (answer.idempotency === "reused") {
    throw new ApiError(
      "idempotency_key_reused",
      `This ${IDEMPOTENCY_KEY_HEADER} was used for a different request, or by another API key, in the last ` +
        `${IDEMPOTENCY_WINDOW_HOURS} hours; use a new key`,
    );
  }
  if (answer.replayed) {
    c.set("replayed", { sealed: answer.sealed ?? null });
    c.var.responseHeaders[HEADER.idempotentReplayed] = "true";
  }
}

/**
 * gateway_request for the key: the operation's call, or none when the request was refused before it (a 400, a
 * malformed id's 404), so that a 401, 429 or 403 still comes first and the request is still counted. Returns the
 * operation's result once the key is admitted; wakes the dispatcher when the operation queued deliveries.
 */
export async function callGateway<N extends RpcName>(
  c: GatewayContext,
  keyHash: string,
  permission: Permission,
  call: OperationCall<N> | null,
): Promise<RpcResult<N>> {
  const services = c.var.services;
  const idempotency = c.get("idempotency");
  const answer = await services.db.rpc("gateway_request", {
    p_key_hash: keyHash,
    p_permission: permission,
    p_rpc: call?.rpc ?? null,
    p_args: (call?.args ?? {}) as Record<string, unknown>,
    p_idempotency: idempotency && call
      ? { key_hash: idempotency.keyHash, fingerprint: idempotency.fingerprint, sealed: idempotency.sealed }
      : null,
  });
  admit(c, answer, permission);
  // A replay queued nothing: its deliveries went with the first request.
  if (call && !answer.replayed && queuedDeliveries(call.rpc, answer.result)) services.kickDispatcher();
  return answer.result as RpcResult<N>;
}

/** gateway_preflight found the key valid but refused (429 or 403): the request's one call gives that answer. */
export class PreflightRefusal extends Error {}

/**
 * For work that must wait until the key is known good (a webhook URL's DNS lookup): asks gateway_preflight, which
 * counts nothing. A key that is not valid is a final 401; a refused one is a PreflightRefusal.
 */
export function preflight(c: GatewayContext, keyHash: string, permission: Permission): () => Promise<void> {
  return async () => {
    const verdict = await c.var.services.db.rpc("gateway_preflight", { p_key_hash: keyHash, p_permission: permission });
    if (verdict === "invalid_key") throw invalidKey();
    if (verdict !== "ok") throw new PreflightRefusal("refused by gateway_preflight");
  };
}
