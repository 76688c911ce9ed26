import type { Hono } from "hono";
import type { GatewayEnv } from "../../_shared/http/context.ts";
import { UNAVAILABLE_HEADERS } from "../../_shared/http/errors.ts";
import { respond } from "../../_shared/http/respond.ts";

/** No auth: load balancers and uptime checks call it. Answers 503 whenever the database does not. */
export function registerHealth(app: Hono<GatewayEnv>) {
  app.get("/health", async (c) => {
    try {
      await c.var.services.db.rpc("health_check", {});
      return respond(c, { status: "ok" });
    } catch (error) {
      c.set("failure", error instanceof Error ? error.message : String(error));
      const response = respond(c, { status: "unavailable" }, 503);
      for (const [name, value] of Object.entries(UNAVAILABLE_HEADERS)) response.headers.set(name, value);
      return response;
    }
  });
}
