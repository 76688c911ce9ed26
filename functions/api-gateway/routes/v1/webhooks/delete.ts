import { respond } from "@shared/http/respond.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { TAG, webhookNotFound, webhookPath } from "./schema.ts";

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
    schema: () =>
      z.strictObject({
        data: z.strictObject({ deleted: z.literal(true), id: z.string().meta({ format: "uuid" }) }),
      }),
  },
  errors: ["webhook_not_found"],
  call: { rpc: "delete_webhook", args: ({ params }) => ({ p_id: params.id }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  return respond(c, { data: { deleted: true, id: result.id } });
});
