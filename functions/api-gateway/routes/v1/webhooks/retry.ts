import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { ApiError } from "../../../../_shared/http/errors.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { uuidParam } from "../../../../_shared/http/params.ts";
import { webhookIdParam, webhookNotFound } from "./schema.ts";

type Outcome =
  | { outcome: "ok"; delivery_id: string }
  | { outcome: "webhook_not_found" }
  | { outcome: "delivery_not_found" }
  | { outcome: "not_failed"; status: string };

function deliveryNotFound(): ApiError {
  return new ApiError("delivery_not_found", "No delivery with this ID for this webhook");
}

export function registerRetryDelivery(app: Hono<GatewayEnv>) {
  app.post("/:id/deliveries/:delivery_id/retry", ...protect("webhooks:write"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("retry_webhook_delivery", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: webhookIdParam(c),
      p_delivery_id: uuidParam(c, "delivery_id", deliveryNotFound),
    });
    if (result.outcome === "webhook_not_found") throw webhookNotFound();
    if (result.outcome === "delivery_not_found") throw deliveryNotFound();
    if (result.outcome === "not_failed") {
      throw new ApiError("delivery_not_failed", `Delivery is ${result.status}; only failed deliveries can be retried`, {
        details: { status: result.status },
      });
    }
    c.var.services.kickDispatcher();
    return respond(c, { data: { delivery_id: result.delivery_id } }, 202);
  });
}
