import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { bearerSecretChecker } from "../_shared/auth/shared-secret.ts";
import { ApiError, classifyError } from "../_shared/http/errors.ts";
import { newRequestId } from "../_shared/http/request-id.ts";
import { JSON_CONTENT_TYPE } from "../_shared/http/respond.ts";
import { drain } from "../_shared/webhooks/drain.ts";
import type { DispatcherServices } from "./services.ts";

export const FUNCTION_NAME = "webhook-dispatcher";

function json(c: Context, body: unknown, status: ContentfulStatusCode, headers: Record<string, string> = {}) {
  return c.body(JSON.stringify(body), status, { "Content-Type": JSON_CONTENT_TYPE, ...headers });
}

function errorResponse(c: Context, error: ApiError, requestId: string) {
  return json(c, error.body, error.status as ContentfulStatusCode, { ...error.headers, "X-Request-ID": requestId });
}

/**
 * The dispatcher as a Hono app: `POST` runs one drain of the webhook outbox and answers with its summary. It
 * answers on `/webhook-dispatcher` (deployed) and `/functions/v1/webhook-dispatcher` (local front), and only to
 * callers presenting the dispatcher secret.
 */
export function createDispatcherApp(services: DispatcherServices): Hono {
  const checkSecret = bearerSecretChecker(services.secret);
  const app = new Hono();

  for (const path of [`/${FUNCTION_NAME}`, `/functions/v1/${FUNCTION_NAME}`]) {
    app.post(path, async (c) => {
      const requestId = newRequestId();
      const verdict = await checkSecret(c.req.header("authorization"));
      if (verdict !== "ok") {
        services.log({ level: "warn", msg: "dispatcher call refused", request_id: requestId, reason: verdict });
        return errorResponse(
          c,
          verdict === "missing"
            ? new ApiError("missing_auth", "Missing Authorization header. Use: Authorization: Bearer <dispatcher secret>")
            : new ApiError("invalid_key", "Invalid dispatcher secret"),
          requestId,
        );
      }
      try {
        const summary = await drain(services.db, services.settings, services.log);
        // The scheduler calls every few seconds; only drains that found work are worth a log line.
        if (summary.claimed + summary.cancelled > 0) {
          services.log({ level: "info", msg: "webhook drain", request_id: requestId, ...summary });
        }
        return json(c, { data: summary }, 200, { "X-Request-ID": requestId });
      } catch (thrown) {
        const { error, failure } = classifyError(thrown);
        services.log({ level: "error", msg: "webhook drain failed", request_id: requestId, error: failure });
        return errorResponse(c, error, requestId);
      }
    });
    app.all(path, (c) =>
      errorResponse(
        c,
        new ApiError("method_not_allowed", `Method ${c.req.method} is not allowed here`, { headers: { Allow: "POST" } }),
        newRequestId(),
      ));
  }
  app.notFound((c) => errorResponse(c, new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`), newRequestId()));
  return app;
}
