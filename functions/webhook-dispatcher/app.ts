import { Hono } from "hono";
import { bearerSecretChecker } from "../_shared/auth/shared-secret.ts";
import { ApiError, classifyError } from "../_shared/http/errors.ts";
import { newRequestId } from "../_shared/http/request-id.ts";
import { respond, respondError } from "../_shared/http/respond.ts";
import { routeMiss } from "../_shared/http/route-miss.ts";
import { drain, type DrainSummary, DrainWakeup } from "../_shared/webhooks/drain.ts";
import { coalescedRuns } from "./coalesced-runs.ts";
import type { DispatcherServices } from "./services.ts";

export const FUNCTION_NAME = "webhook-dispatcher";

/**
 * One drain, logged. Resolves to its summary, or null when it failed (logged too): it runs after the response,
 * where nobody could catch a rejection. A drain that stopped with work left wakes a fresh invocation for the rest,
 * so a backlog moves at full speed while each invocation stays within its budget.
 */
async function drainAndLog(
  services: DispatcherServices,
  requestIds: string[],
  wakeup: DrainWakeup,
): Promise<DrainSummary | null> {
  const request = { request_id: requestIds[0], kicks: requestIds.length };
  try {
    const summary = await drain(services.db, services.settings, services.log, wakeup);
    if (summary.stopped !== "empty") services.kickAgain();
    // The scheduler calls whenever something is due; only drains that found work are worth a log line.
    if (summary.claimed + summary.cancelled > 0) services.log({ level: "info", msg: "webhook drain", ...request, ...summary });
    return summary;
  } catch (thrown) {
    services.log({ level: "error", msg: "webhook drain failed", ...request, error: classifyError(thrown).failure });
    return null;
  }
}

/**
 * The dispatcher as a Hono app: `POST` answers 202 at once and drains the webhook outbox in the background
 * (`services.waitUntil`), one drain at a time per isolate. A kick that arrives during a drain wakes it to claim
 * again while it still may, and otherwise shares the next drain.
 * It answers on `/webhook-dispatcher` (deployed) and `/functions/v1/webhook-dispatcher` (local front), and only to
 * callers presenting the dispatcher secret.
 */
export function createDispatcherApp(services: DispatcherServices): Hono<{ Variables: { requestId: string } }> {
  const checkSecret = bearerSecretChecker(services.secret);
  // One wakeup serves every drain of this isolate: only one runs at a time, and each sets `open` as it goes.
  const wakeup = new DrainWakeup();
  const drainSoon = coalescedRuns((requestIds) => drainAndLog(services, requestIds, wakeup), () => {
    if (!wakeup.open) return false;
    wakeup.wake();
    return true;
  });
  const app = new Hono<{ Variables: { requestId: string } }>();
  // Every answer, errors included, carries a request id the log lines name too.
  app.use(async (c, next) => {
    c.set("requestId", newRequestId());
    await next();
    c.res.headers.set("X-Request-ID", c.var.requestId);
  });

  for (const path of [`/${FUNCTION_NAME}`, `/functions/v1/${FUNCTION_NAME}`]) {
    app.post(path, async (c) => {
      const requestId = c.var.requestId;
      const verdict = await checkSecret(c.req.header("authorization"));
      if (verdict !== "ok") {
        services.log({ level: "warn", msg: "dispatcher call refused", request_id: requestId, reason: verdict });
        return respondError(
          c,
          verdict === "missing"
            ? new ApiError("missing_auth", "Missing Authorization header. Use: Authorization: Bearer <dispatcher secret>")
            : new ApiError("invalid_key", "Invalid dispatcher secret"),
        );
      }
      services.waitUntil(drainSoon(requestId));
      return respond(c, { data: { accepted: true } }, 202);
    });
  }
  const miss = routeMiss(app);
  app.notFound((c) => respondError(c, miss(c)));
  return app;
}
