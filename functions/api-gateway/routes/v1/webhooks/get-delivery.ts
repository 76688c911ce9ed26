import { respond } from "@shared/http/respond.ts";
import { attemptLogObject, deliveryObject } from "@shared/webhooks/endpoint.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { deliveryNotFound, deliveryPath, TAG, webhookNotFound } from "./schema.ts";

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
    schema: () =>
      z.strictObject({
        data: z.strictObject({ delivery: deliveryObject(), attempts: z.array(attemptLogObject()) }),
      }),
  },
  errors: ["webhook_not_found", "delivery_not_found"],
  call: {
    rpc: "get_webhook_delivery",
    args: ({ params }) => ({ p_id: params.id, p_delivery_id: params.delivery_id }),
  },
}, (c, result) => {
  if (result.outcome === "webhook_not_found") throw webhookNotFound();
  if (result.outcome === "delivery_not_found") throw deliveryNotFound();
  return respond(c, { data: { delivery: result.delivery, attempts: result.attempts } });
});
