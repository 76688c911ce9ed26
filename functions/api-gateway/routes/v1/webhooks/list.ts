import { callerOf } from "../../../context.ts";
import { respondList } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import { listWebhooksQuery, TAG, webhookListResponse } from "./schema.ts";

export const listWebhooks = defineOperation({
  method: "get",
  path: "/",
  operationId: "listWebhooks",
  summary: "List webhook endpoints",
  description: "Each with the outcome and time of its latest delivery attempt.",
  tags: [TAG],
  permission: "webhooks:read",
  query: listWebhooksQuery,
  success: { status: 200, description: "One page of endpoints", schema: webhookListResponse },
}, async (c, { query }) => {
  const result = await c.var.services.db.rpc(
    "list_webhooks",
    { p_workspace_id: callerOf(c).workspaceId, p_page: query.page, p_per_page: query.per_page },
  );
  return respondList(c, "webhooks", result.webhooks, {
    page: query.page,
    per_page: query.per_page,
    total: result.total,
  });
});
