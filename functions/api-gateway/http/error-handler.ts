import type { ErrorHandler, Hono, NotFoundHandler } from "hono";
import type { GatewayEnv } from "../context.ts";
import { ApiError, classifyError } from "@shared/http/errors.ts";
import { respondError } from "@shared/http/respond.ts";
import { routeMiss } from "@shared/http/route-miss.ts";

/** The one place any failure becomes the contract's error envelope. */
export const onError: ErrorHandler<GatewayEnv> = (err, c) => {
  const { error: apiError, failure } = classifyError(err);
  if (failure) c.set("failure", failure);
  return respondError(c, apiError);
};

/** What an OPTIONS request, such as a browser's CORS preflight, is told (docs/api-behaviour.md, "Browsers"). */
const NO_CORS_MESSAGE = "This API does not answer CORS preflight requests: API keys are secret, so call it " +
  "from your server, never from a browser";

/**
 * Answers unknown paths with 404 and known paths with the wrong method with 405 and an `Allow` header. OPTIONS is
 * such a method: no route takes it, and a browser's preflight gets a 405 that says why, with no
 * Access-Control-Allow-Origin, so the browser refuses the real request.
 */
export function notFoundHandler(app: Hono<GatewayEnv>): NotFoundHandler<GatewayEnv> {
  const miss = routeMiss(app);
  return (c) => {
    const error = miss(c);
    if (c.req.method !== "OPTIONS" || error.code !== "method_not_allowed") return onError(error, c);
    return onError(new ApiError("method_not_allowed", NO_CORS_MESSAGE, { headers: error.headers }), c);
  };
}
