import type { ErrorHandler, Hono, NotFoundHandler } from "hono";
import type { GatewayEnv } from "../context.ts";
import { ApiError, classifyError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";

/** The one place any failure becomes the contract's error envelope. */
export const onError: ErrorHandler<GatewayEnv> = (err, c) => {
  const { error: apiError, failure } = classifyError(err);
  if (failure) c.set("failure", failure);
  const response = respond(c, apiError.body, apiError.status as 400);
  for (const [name, value] of Object.entries(apiError.headers ?? {})) response.headers.set(name, value);
  return response;
};

function patternToRegExp(path: string): RegExp {
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\?:\w+/g, "[^/]+");
  return new RegExp(`^${source}/?$`);
}

/**
 * Answers unknown paths with 404 and known paths with the wrong method with 405 and an `Allow` header.
 * The route table is read once, when the app is built.
 */
export function notFoundHandler(app: Hono<GatewayEnv>): NotFoundHandler<GatewayEnv> {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (c) => {
    table ??= app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({ pattern: patternToRegExp(r.path), method: r.method }));
    const allowed = [...new Set(table.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length === 0 || allowed.includes(c.req.method)) {
      return onError(new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`), c);
    }
    return onError(
      new ApiError("method_not_allowed", `Method ${c.req.method} is not allowed here`, {
        headers: { Allow: allowed.join(", ") },
      }),
      c,
    );
  };
}
