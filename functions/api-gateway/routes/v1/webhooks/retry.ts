import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { deliveryNotFound, deliveryPath, queuedDeliveryResponse, TAG, webhookNotFound } from "./schema.ts";

export const retryWebhookDelivery = defineOperation({
  method: "post",
  path: "/{id}/deliveries/{delivery_id}/retry",
  operationId: "retryWebhookDelivery",
  summary: "Retry a failed delivery",
  description: "The delivery gets a fresh set of attempts, under the same delivery id.",
  tags: [TAG],
  permission: "webhooks:write",
  params: deliveryPath,
  success: { status: 202, description: "The delivery is queued again", schema: queuedDeliveryResponse },
  errors: ["webhook_not_found", "delivery_not_found", "delivery_not_failed"],
  call: {
    rpc: "retry_webhook_delivery",
    args: ({ params }) => ({ p_id: params.id, p_delivery_id: params.delivery_id }),
  },
}, (c, result) => {
  if (result.outcome === "webhook_not_found") throw webhookNotFound();
  if (result.outcome === "delivery_not_found") throw deliveryNotFound();
  if (result.outcome === "not_failed") {
    throw new ApiError("delivery_not_failed", `Delivery is ${result.status}; only failed deliveries can be retried`, {
      details: { status: result.status },
    });
  }
  return respond(c, { data: { delivery_id: result.delivery_id } }, 202);
});
