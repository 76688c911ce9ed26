import { createMiddleware } from "hono/factory";
import type { GatewayEnv } from "../context.ts";
import { newRequestId } from "@shared/http/request-id.ts";

/** Assigns the request id, echoes it on every response, and writes one JSON log line per request. */
export const requestLog = createMiddleware<GatewayEnv>(async (c, next) => {
  const started = performance.now();
  const requestId = newRequestId();
  c.set("requestId", requestId);
  // Set before the response exists, so every response made through the context carries it, errors included.
  c.header("X-Request-ID", requestId);
  await next();
  const identity = c.get("logIdentity");
  c.var.services.log({
    level: c.res.status >= 500 ? "error" : "info",
    msg: "request",
    request_id: requestId,
    method: c.req.method,
    route: c.req.routePath,
    path: c.req.path,
    status: c.res.status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    workspace_id: identity?.workspaceId ?? null,
    key_prefix: identity?.keyPrefix ?? null,
    ...(c.get("failure") ? { error: c.get("failure") } : {}),
  });
});
