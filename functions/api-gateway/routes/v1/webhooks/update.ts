import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import {
  duplicateWebhook,
  TAG,
  updateWebhookBody,
  WEBHOOK_FIELD_CODES,
  webhookNotFound,
  webhookPath,
  webhookResponse,
  withAllowedUrl,
} from "./schema.ts";

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
  prepare: (c, { body }, check) => withAllowedUrl(c, body, check),
  call: { rpc: "update_webhook", args: ({ params, prepared }) => ({ p_id: params.id, p_fields: prepared }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  if (result.outcome === "duplicate") throw duplicateWebhook();
  return respond(c, { data: { webhook: result.webhook } });
});
