import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { type Webhook, webhookIdParam, webhookNotFound } from "./schema.ts";

type Outcome = { outcome: "ok"; webhook: Webhook } | { outcome: "not_found" };

export function registerGetWebhook(app: Hono<GatewayEnv>) {
  app.get("/:id", ...protect("webhooks:read"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("get_webhook", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: webhookIdParam(c),
    });
    if (result.outcome === "not_found") throw webhookNotFound();
    return respond(c, { data: { webhook: result.webhook } });
  });
}
