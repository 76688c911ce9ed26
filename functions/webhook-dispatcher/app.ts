import { Hono } from "hono";
import { bearerSecretChecker } from "../_shared/auth/shared-secret.ts";
import { ApiError, classifyError } from "../_shared/http/errors.ts";
import { newRequestId } from "../_shared/http/request-id.ts";
import { respond, respondError, type ResponseHeaders } from "../_shared/http/respond.ts";
import { routeMiss } from "../_shared/http/route-miss.ts";
import { drain, type DrainSummary, type DrainWakeup } from "../_shared/webhooks/drain.ts";
import { drainOnKick } from "./drain-on-kick.ts";
import type { DispatcherServices } from "./services.ts";

export const FUNCTION_NAME = "webhook-dispatcher";

/**
 * One drain, logged. Resolves to its summary, or null when it failed (logged too): it runs after the response,
 * where nobody could catch a rejection. A drain that stopped with work left wakes a fresh invocation for the rest,
 * so a backlog moves at full speed while each invocation stays within its budget.
 */
async function drainAndLog(
  services: DispatcherServices,
  wakeup: DrainWakeup,
  requestId: string,
): Promise<DrainSummary | null> {
  try {
    const summary = await drain(services.db, services.settings, services.log, wakeup);
    const request = { request_id: requestId, kicks: 1 + wakeup.wakes };
    if (summary.stopped !== "empty") services.kickAgain();
    // The scheduler calls whenever something is due; only drains that found work are worth a log line.
    if (summary.claimed + summary.cancelled > 0) {
      services.log({ level: "info", msg: "webhook drain", ...request, ...summary });
    }
    return summary;
  } catch (thrown) {
    services.log({
      level: "error",
      msg: "webhook drain failed",
      request_id: requestId,
      error: classifyError(thrown).failure,
    });
    return null;
  }
}

type DispatcherEnv = { Variables: { requestId: string; responseHeaders: ResponseHeaders } };

/**
 * The dispatcher as a Hono app: `POST` answers 202 at once and drains the webhook outbox in the background
 * (`services.waitUntil`). A kick that arrives while a drain may still claim wakes it to claim again at once;
 * otherwise it starts a new drain (drain-on-kick.ts).
 * It answers on `/webhook-dispatcher` (deployed) and `/functions/v1/webhook-dispatcher` (local front), and only to
 * callers presenting the dispatcher secret.
 */
export function createDispatcherApp(services: DispatcherServices): Hono<DispatcherEnv> {
  const checkSecret = bearerSecretChecker(services.secret);
  const drainSoon = drainOnKick((wakeup, requestId) => drainAndLog(services, wakeup, requestId));
  const app = new Hono<DispatcherEnv>();
  // Every answer, errors included, carries a request id the log lines name too.
  app.use(async (c, next) => {
    const requestId = newRequestId();
    c.set("requestId", requestId);
    c.set("responseHeaders", { "X-Request-ID": requestId });
    await next();
  });

  for (const path of [`/${FUNCTION_NAME}`, `/functions/v1/${FUNCTION_NAME}`]) {
    app.post(path, (c) => {
      const requestId = c.var.requestId;
      const verdict = checkSecret(c.req.header("authorization"));
      if (verdict !== "ok") {
        services.log({ level: "warn", msg: "dispatcher call refused", request_id: requestId, reason: verdict });
        return respondError(
          c,
          verdict === "missing"
            ? new ApiError(
              "missing_auth",
              "Missing Authorization header. Use: Authorization: Bearer <dispatcher secret>",
            )
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
