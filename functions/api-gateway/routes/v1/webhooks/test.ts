import { respond } from "@shared/http/respond.ts";
import { TEST_EVENT } from "@shared/webhooks/events.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { queuedDeliveryResponse, TAG, webhookNotFound, webhookPath } from "./schema.ts";

export const testWebhook = defineOperation({
  method: "post",
  path: "/{id}/test",
  operationId: "testWebhook",
  summary: "Send a test event",
  description: `Queues a \`${TEST_EVENT}\` delivery to this endpoint only.`,
  tags: [TAG],
  permission: "webhooks:write",
  params: webhookPath,
  success: { status: 202, description: "The test delivery is queued", schema: queuedDeliveryResponse },
  errors: ["webhook_not_found"],
  call: { rpc: "send_test_webhook", args: ({ params }) => ({ p_id: params.id, p_event: TEST_EVENT }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  return respond(c, { data: { delivery_id: result.delivery_id } }, 202);
});
