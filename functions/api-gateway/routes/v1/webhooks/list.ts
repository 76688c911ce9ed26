import { pagingArgs, respondList } from "@shared/http/pagination.ts";
import { defineOperation } from "@gateway/http/operation.ts";
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
  call: { rpc: "list_webhooks", args: ({ query }) => pagingArgs(query) },
}, (c, result, { query }) => respondList(c, "webhooks", result.webhooks, query, result));
