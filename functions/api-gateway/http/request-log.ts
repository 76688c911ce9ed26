import { createMiddleware } from "hono/factory";
import type { GatewayEnv } from "../context.ts";
import { newRequestId } from "@shared/http/request-id.ts";

/**
 * Requests answered without a known caller (no key, a malformed or unknown one, a path that is no route) can come
 * from anyone at any rate. Their lines are capped per second, so that a flood of garbage keys neither fills the
 * project's logs nor pays a log write per request (a third of a 401's CPU time: docs/performance.md). The first
 * line written after a capped second says how many went unwritten. Failures (5xx) are always written.
 */
export const DEFAULT_UNATTRIBUTED_LINES_PER_SECOND = 50;

function unattributedLines(perSecond: number) {
  let second = 0;
  let written = 0;
  let unwritten = 0;
  /** undefined: this request's line is not written; otherwise how many lines before it were not. */
  return (now: number): number | undefined => {
    const current = Math.floor(now / 1000);
    if (current !== second) {
      second = current;
      written = 0;
    }
    if (written === perSecond) {
      unwritten++;
      return undefined;
    }
    written++;
    const before = unwritten;
    unwritten = 0;
    return before;
  };
}

/** Assigns the request id, echoes it on every response, and writes one JSON log line per request. */
export function requestLog(perSecondUnattributed: number) {
  const unattributed = unattributedLines(perSecondUnattributed);
  return createMiddleware<GatewayEnv>(async (c, next) => {
    const started = performance.now();
    const requestId = newRequestId();
    c.set("requestId", requestId);
    // Every response carries it, errors included (respond.ts, answer).
    c.set("responseHeaders", { "X-Request-ID": requestId });
    await next();
    const identity = c.get("logIdentity");
    const status = c.res.status;
    const unwrittenBefore = identity?.workspaceId || status >= 500 ? 0 : unattributed(Date.now());
    if (unwrittenBefore === undefined) return;
    c.var.services.log({
      level: status >= 500 ? "error" : "info",
      msg: "request",
      request_id: requestId,
      method: c.req.method,
      route: c.req.routePath,
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      workspace_id: identity?.workspaceId ?? null,
      key_prefix: identity?.keyPrefix ?? null,
      ...(c.get("failure") ? { error: c.get("failure") } : {}),
      ...(unwrittenBefore ? { unattributed_unwritten: unwrittenBefore } : {}),
    });
  });
}
