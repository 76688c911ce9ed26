import { callerOf } from "../../../context.ts";
import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import { TAG, webhookIdParam, webhookNotFound, webhookPath, webhookResponse } from "./schema.ts";

export const getWebhook = defineOperation({
  method: "get",
  path: "/{id}",
  operationId: "getWebhook",
  summary: "Get a webhook endpoint",
  tags: [TAG],
  permission: "webhooks:read",
  params: webhookPath,
  success: { status: 200, description: "The endpoint (never its secret)", schema: webhookResponse },
  errors: ["webhook_not_found"],
}, async (c) => {
  const result = await c.var.services.db.rpc("get_webhook", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: webhookIdParam(c),
  });
  if (result.outcome === "not_found") throw webhookNotFound();
  return respond(c, { data: { webhook: result.webhook } });
});
