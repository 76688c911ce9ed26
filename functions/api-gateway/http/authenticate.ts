import { createMiddleware } from "hono/factory";
import type { Database } from "@shared/db/database.ts";
import type { GatewayAnswer, RpcName } from "@shared/db/rpc-catalogue.ts";
import type { Caller, GatewayContext, GatewayEnv } from "../context.ts";
import { ApiError, unavailableError } from "@shared/http/errors.ts";
import { displayPrefix, hashApiKey, isWellFormedApiKey } from "@shared/auth/api-key.ts";
import { bearerToken, hasSeveralCredentials } from "@shared/auth/bearer.ts";
import type { Permission } from "@shared/auth/permissions.ts";
import { onError } from "./error-handler.ts";
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_WINDOW_HOURS } from "./idempotency.ts";
import { HEADER } from "../openapi/components.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";
import { queuedDeliveries } from "../wake-dispatcher.ts";

/** One answer for unknown, malformed, expired and revoked keys alike (docs/api-behaviour.md, "Requests and errors"). */
export const invalidKey = (): ApiError => new ApiError("invalid_key", "Invalid or expired API key");

/**
 * The caller until the key is resolved. gateway_request takes the workspace and the creating key from the key it
 * resolves, never from the arguments, so the handler's call may carry these placeholders; they are not sent.
 */
const UNRESOLVED: Caller = {
  workspaceId: "00000000-0000-0000-0000-000000000000",
  keyId: "00000000-0000-0000-0000-000000000000",
  keyPrefix: "",
  permissions: [],
  rateLimit: null,
};

/** Turns gateway_request's verdict into the contract's 401, 429 or 403, or the caller on the context. */
function admit(c: GatewayContext, answer: GatewayAnswer, permission: Permission): void {
  const resolution = answer.auth;
  if (resolution.outcome === "invalid_key") {
    throw invalidKey();
  }
  c.set("logIdentity", { keyPrefix: resolution.key_prefix, workspaceId: resolution.workspace_id });
  if (resolution.outcome === "rate_limited") {
    throw new ApiError("rate_limited", `Rate limit exceeded. Resets at ${resolution.reset_at}`, {
      headers: { ...rateLimitHeaders(resolution.rate_limit), "Retry-After": String(resolution.retry_after) },
    });
  }
  c.set("caller", {
    workspaceId: resolution.workspace_id,
    keyId: resolution.key_id,
    keyPrefix: resolution.key_prefix,
    permissions: resolution.permissions,
    rateLimit: resolution.rate_limit,
  });
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
  if (answer.replayed) c.set("replayed", { sealed: answer.sealed ?? null });
}

/**
 * Authentication, rate limit and permission, in the contract's order, in the same database call as the operation:
 * the handler's one RPC goes out inside gateway_request. A request answered without any RPC (a 400, a malformed
 * id's 404, a refused webhook URL) is checked afterwards with one bare gateway_request, whose 401, 429 or 403
 * then takes the answer's place: one round trip either way. Malformed keys are refused before
 * any database call. Rate-limit headers go on every metered response, errors included; a replay of a stored
 * outcome (Idempotency-Key) is marked with `Idempotent-Replayed: true`. Work that must wait for a valid key (a
 * webhook URL's DNS lookup) awaits `preflight` first: that write costs a second round trip (README, "One request").
 */
export function authenticate(permission: Permission) {
  return createMiddleware<GatewayEnv>(async (c, next) => {
    const authorization = c.req.header("authorization");
    // The runtime joins repeated headers with ", "; which of them would win depends on the proxy in between.
    if (hasSeveralCredentials(authorization)) {
      throw new ApiError("missing_auth", "More than one Authorization header. Send exactly one: Authorization: Bearer wbk_...");
    }
    const token = bearerToken(authorization);
    if (token === undefined) {
      throw new ApiError("missing_auth", "Missing Authorization header. Use: Authorization: Bearer wbk_...");
    }
    if (!isWellFormedApiKey(token)) {
      throw invalidKey();
    }
    c.set("logIdentity", { keyPrefix: displayPrefix(token) });

    const services = c.var.services;
    const keyHash = await hashApiKey(token);
    let sent = false;
    const request = async (rpc: RpcName | null, args: Record<string, unknown>): Promise<unknown> => {
      if (sent) throw new Error("an authenticated route makes one database call");
      sent = true;
      // The placeholders stay here: gateway_request fills them in from the key.
      const {
        p_workspace_id: _workspace,
        p_creator_key_id: _creator,
        p_revoker_key_id: _revoker,
        ...operationArgs
      } = args;
      const idempotency = c.get("idempotency");
      const answer = await services.db.rpc("gateway_request", {
        p_key_hash: keyHash,
        p_permission: permission,
        p_rpc: rpc,
        p_args: operationArgs,
        p_idempotency: idempotency && rpc
          ? { key_hash: idempotency.keyHash, fingerprint: idempotency.fingerprint, sealed: idempotency.sealed }
          : null,
      });
      admit(c, answer, permission);
      // Every call that can queue deliveries passes here; a replay queued nothing (they went with the first).
      if (rpc && !answer.replayed && queuedDeliveries(rpc, answer.result)) services.kickDispatcher();
      return answer.result;
    };
    const db: Database = {
      rpc: (name, args) => request(name, args as Record<string, unknown>) as never,
    };
    c.set("services", { ...services, db });
    c.set("caller", UNRESOLVED);
    c.set("preflight", async () => {
      const verdict = await services.db.rpc("gateway_preflight", { p_key_hash: keyHash, p_permission: permission });
      if (verdict === "invalid_key") {
        sent = true; // final: a key that is not valid now does not become valid
        throw invalidKey();
      }
      // Refused (429 or 403): gateway_request gives that answer, with its headers, after the handler. Only if the
      // minute window rolled over in between does it admit the request instead, and then this asks for a retry.
      if (verdict !== "ok") throw unavailableError();
    });

    await next();
    if (!sent) {
      try {
        await request(null, {});
      } catch (err) {
        c.res = undefined;
        c.res = await onError(err as Error, c);
      }
    }
    if (c.get("replayed")) c.res.headers.set(HEADER.idempotentReplayed, "true");
    const rateLimit = c.get("caller")?.rateLimit;
    if (rateLimit) {
      for (const [name, value] of Object.entries(rateLimitHeaders(rateLimit))) c.res.headers.set(name, value);
    }
  });
}
