import { listMeta, pagingArgs, respondList } from "@shared/http/pagination.ts";
import { deliveryObject } from "@shared/webhooks/endpoint.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { TAG, webhookDeliveriesQuery, webhookNotFound, webhookPath } from "./schema.ts";

export const listWebhookDeliveries = defineOperation({
  method: "get",
  path: "/{id}/deliveries",
  operationId: "listWebhookDeliveries",
  summary: "List an endpoint's deliveries",
  description: "One row per delivery (an event sent to this endpoint), newest first; `status` filters on the " +
    "delivery's status.",
  tags: [TAG],
  permission: "webhooks:read",
  params: webhookPath,
  query: webhookDeliveriesQuery,
  success: {
    status: 200,
    description: "One page of deliveries",
    schema: () => z.strictObject({ data: z.strictObject({ deliveries: z.array(deliveryObject()) }), meta: listMeta() }),
  },
  errors: ["webhook_not_found"],
  call: {
    rpc: "list_webhook_deliveries",
    args: ({ params, query }) => ({
      p_id: params.id,
      p_status: query.status ?? null,
      ...pagingArgs(query),
    }),
  },
}, (c, result, { query }) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  return respondList(c, "deliveries", result.deliveries, query, result);
});
