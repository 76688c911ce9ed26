import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { TAG, webhookNotFound, webhookPath, webhookResponse } from "./schema.ts";

export const getWebhook = defineOperation({
  method: "get",
  path: "/{id}",
  operationId: "getWebhook",
  summary: "Get a webhook endpoint",
  description: "Never the signing secret, which is shown only on create and rotation.",
  tags: [TAG],
  permission: "webhooks:read",
  params: webhookPath,
  success: { status: 200, description: "The endpoint (never its secret)", schema: webhookResponse },
  errors: ["webhook_not_found"],
  call: { rpc: "get_webhook", args: ({ params }) => ({ p_id: params.id }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  return respond(c, { data: { webhook: result.webhook } });
});
