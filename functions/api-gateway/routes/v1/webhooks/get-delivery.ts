import { callerOf } from "../../../context.ts";
import { respond } from "@shared/http/respond.ts";
import { attemptLogObject, deliveryObject } from "@shared/webhooks/endpoint.ts";
import { z } from "zod";
import { defineOperation } from "../../../openapi/operation.ts";
import { deliveryIdParam, deliveryNotFound, deliveryPath, TAG, webhookIdParam, webhookNotFound } from "./schema.ts";

export const getWebhookDelivery = defineOperation({
  method: "get",
  path: "/{id}/deliveries/{delivery_id}",
  operationId: "getWebhookDelivery",
  summary: "Get a delivery and its attempts",
  description: "The delivery as the list shows it, and every attempt of it, oldest first.",
  tags: [TAG],
  permission: "webhooks:read",
  params: deliveryPath,
  success: {
    status: 200,
    description: "The delivery and its attempt log",
    schema: z.strictObject({
      data: z.strictObject({ delivery: deliveryObject, attempts: z.array(attemptLogObject) }),
    }),
  },
  errors: ["webhook_not_found", "delivery_not_found"],
}, async (c) => {
  const result = await c.var.services.db.rpc("get_webhook_delivery", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: webhookIdParam(c),
    p_delivery_id: deliveryIdParam(c),
  });
  if (result.outcome === "webhook_not_found") throw webhookNotFound();
  if (result.outcome === "delivery_not_found") throw deliveryNotFound();
  return respond(c, { data: { delivery: result.delivery, attempts: result.attempts } });
});
