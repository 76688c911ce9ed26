import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { TEST_EVENT } from "../../../../_shared/webhooks/events.ts";
import { webhookIdParam, webhookNotFound } from "./schema.ts";

type Outcome = { outcome: "ok"; delivery_id: string } | { outcome: "not_found" };

export function registerTestWebhook(app: Hono<GatewayEnv>) {
  app.post("/:id/test", ...protect("webhooks:write"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("send_test_webhook", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: webhookIdParam(c),
      p_event: TEST_EVENT,
    });
    if (result.outcome === "not_found") throw webhookNotFound();
    c.var.services.kickDispatcher();
    return respond(c, { data: { delivery_id: result.delivery_id } }, 202);
  });
}
