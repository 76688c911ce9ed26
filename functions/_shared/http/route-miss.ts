import type { Context, Hono } from "hono";
import { ApiError } from "./errors.ts";

function patternToRegExp(path: string): RegExp {
  const source = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\?:\w+/g, "[^/]+");
  return new RegExp(`^${source}/?$`);
}

/**
 * What a request no route took gets: 405 with an `Allow` header when its path is a route's under another method,
 * otherwise 404. The route table is read on the first miss, once every route has been registered.
 */
// deno-lint-ignore no-explicit-any -- any app's routes will do: only paths and methods are read
export function routeMiss(app: Hono<any>): (c: Context) => ApiError {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (c) => {
    table ??= app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({ pattern: patternToRegExp(r.path), method: r.method }));
    const allowed = [...new Set(table.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length === 0 || allowed.includes(c.req.method)) {
      return new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
    }
    return new ApiError("method_not_allowed", `Method ${c.req.method} is not allowed here`, {
      headers: { Allow: allowed.join(", ") },
    });
  };
}
