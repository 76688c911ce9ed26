import { callerOf } from "../../../context.ts";
import { listMeta } from "@shared/http/pagination.ts";
import { respondList } from "@shared/http/respond.ts";
import { deliveryObject } from "@shared/webhooks/endpoint.ts";
import { z } from "zod";
import { defineOperation } from "../../../openapi/operation.ts";
import { TAG, webhookDeliveriesQuery, webhookIdParam, webhookNotFound, webhookPath } from "./schema.ts";

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
    schema: z.strictObject({ data: z.strictObject({ deliveries: z.array(deliveryObject) }), meta: listMeta }),
  },
  errors: ["webhook_not_found"],
}, async (c, { query }) => {
  const result = await c.var.services.db.rpc("list_webhook_deliveries", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: webhookIdParam(c),
    p_status: query.status ?? null,
    p_page: query.page,
    p_per_page: query.per_page,
  });
  if (result.outcome === "not_found") throw webhookNotFound();
  return respondList(c, "deliveries", result.deliveries, {
    page: query.page,
    per_page: query.per_page,
    total: result.total,
  });
});
