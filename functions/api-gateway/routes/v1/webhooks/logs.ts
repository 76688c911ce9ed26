import { listMeta, pagingArgs, respondList } from "@shared/http/pagination.ts";
import { attemptLogObject } from "@shared/webhooks/endpoint.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { TAG, webhookLogsQuery, webhookNotFound, webhookPath } from "./schema.ts";

export const listWebhookLogs = defineOperation({
  method: "get",
  path: "/{id}/logs",
  operationId: "listWebhookLogs",
  summary: "List an endpoint's delivery attempts",
  description: "One row per attempt, newest first; `status` filters on the attempt's own outcome.",
  tags: [TAG],
  permission: "webhooks:read",
  params: webhookPath,
  query: webhookLogsQuery,
  success: {
    status: 200,
    description: "One page of attempts",
    schema: () => z.strictObject({ data: z.strictObject({ logs: z.array(attemptLogObject()) }), meta: listMeta() }),
  },
  errors: ["webhook_not_found"],
  call: {
    rpc: "list_webhook_logs",
    args: ({ params, query }) => ({
      p_id: params.id,
      p_status: query.status ?? null,
      ...pagingArgs(query),
    }),
  },
}, (c, result, { query }) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  return respondList(c, "logs", result.logs, query, result);
});
