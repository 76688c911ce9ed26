import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { webhookIdParam, webhookNotFound } from "./schema.ts";

type Outcome = { outcome: "ok"; id: string } | { outcome: "not_found" };

export function registerDeleteWebhook(app: Hono<GatewayEnv>) {
  app.delete("/:id", ...protect("webhooks:write"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("delete_webhook", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: webhookIdParam(c),
    });
    if (result.outcome === "not_found") throw webhookNotFound();
    return respond(c, { data: { deleted: true, id: result.id } });
  });
}
