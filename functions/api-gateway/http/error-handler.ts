import type { ErrorHandler, Hono, NotFoundHandler } from "hono";
import type { GatewayEnv } from "../context.ts";
import { classifyError } from "@shared/http/errors.ts";
import { respondError } from "@shared/http/respond.ts";
import { routeMiss } from "@shared/http/route-miss.ts";

/** The one place any failure becomes the contract's error envelope. */
export const onError: ErrorHandler<GatewayEnv> = (err, c) => {
  const { error: apiError, failure } = classifyError(err);
  if (failure) c.set("failure", failure);
  return respondError(c, apiError);
};

/** Answers unknown paths with 404 and known paths with the wrong method with 405 and an `Allow` header. */
export function notFoundHandler(app: Hono<GatewayEnv>): NotFoundHandler<GatewayEnv> {
  const miss = routeMiss(app);
  return (c) => onError(miss(c), c);
}
