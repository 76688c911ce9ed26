import { callerOf } from "../../../context.ts";
import { respond } from "@shared/http/respond.ts";
import { z } from "zod";
import { defineOperation } from "../../../openapi/operation.ts";
import { TAG, webhookIdParam, webhookNotFound, webhookPath } from "./schema.ts";

export const deleteWebhook = defineOperation({
  method: "delete",
  path: "/{id}",
  operationId: "deleteWebhook",
  summary: "Delete a webhook endpoint",
  description: "Its pending deliveries are cancelled.",
  tags: [TAG],
  permission: "webhooks:write",
  params: webhookPath,
  success: {
    status: 200,
    description: "The endpoint is gone",
    schema: z.strictObject({
      data: z.strictObject({ deleted: z.literal(true), id: z.string().meta({ format: "uuid" }) }),
    }),
  },
  errors: ["webhook_not_found"],
}, async (c) => {
  const result = await c.var.services.db.rpc("delete_webhook", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: webhookIdParam(c),
  });
  if (result.outcome === "not_found") throw webhookNotFound();
  return respond(c, { data: { deleted: true, id: result.id } });
});
