import { callerOf } from "../../../context.ts";
import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import {
  duplicateWebhook,
  TAG,
  updateWebhookBody,
  WEBHOOK_FIELD_CODES,
  webhookIdParam,
  webhookNotFound,
  webhookPath,
  webhookResponse,
  withAllowedUrl } from "./schema.ts";

export const updateWebhook = defineOperation({
  method: "patch",
  path: "/{id}",
  operationId: "updateWebhook",
  summary: "Update a webhook endpoint",
  description: "`events` replaces the list; the secret never changes.",
  tags: [TAG],
  permission: "webhooks:write",
  params: webhookPath,
  body: { schema: updateWebhookBody, what: "webhook", fieldCodes: WEBHOOK_FIELD_CODES },
  success: { status: 200, description: "The updated endpoint", schema: webhookResponse },
  errors: ["invalid_url", "invalid_events", "webhook_not_found", "duplicate_webhook"],
}, async (c, { body }) => {
  const id = webhookIdParam(c);
  const result = await c.var.services.db.rpc("update_webhook", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: id,
    p_fields: await withAllowedUrl(c, body),
  });
  if (result.outcome === "not_found") throw webhookNotFound();
  if (result.outcome === "duplicate") throw duplicateWebhook();
  return respond(c, { data: { webhook: result.webhook } });
});
