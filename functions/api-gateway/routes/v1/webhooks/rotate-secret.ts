import { callerOf } from "../../../context.ts";
import { respond } from "@shared/http/respond.ts";
import { newSigningSecret } from "@shared/webhooks/signing.ts";
import { replayedSecret, sealSecret } from "../../../http/idempotency.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import {
  createdWebhookResponse,
  rotateSecretBody,
  TAG,
  webhookIdParam,
  webhookNotFound,
  webhookPath,
} from "./schema.ts";

export const rotateWebhookSecret = defineOperation({
  method: "post",
  path: "/{id}/rotate-secret",
  operationId: "rotateWebhookSecret",
  summary: "Replace an endpoint's signing secret",
  description: "The response carries the new secret, shown only here. For `overlap_seconds` every delivery is " +
    "signed with the new and the old secret (one signature each); after that with the new one only. A second " +
    "rotation during an overlap ends the older secret at once.",
  tags: [TAG],
  permission: "webhooks:write",
  params: webhookPath,
  body: { schema: rotateSecretBody, what: "rotation" },
  success: { status: 200, description: "The endpoint, with its new secret", schema: createdWebhookResponse },
  errors: ["webhook_not_found"],
}, async (c, { body }) => {
  const id = webhookIdParam(c);
  const secret = newSigningSecret();
  // Sealed for a replay, as at creation (create.ts).
  await sealSecret(c, secret);
  const result = await c.var.services.db.rpc("rotate_webhook_secret", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: id,
    p_secret: secret,
    p_overlap_seconds: body.overlap_seconds,
  });
  if (result.outcome === "not_found") throw webhookNotFound();
  return respond(c, { data: { webhook: { ...result.webhook, secret: (await replayedSecret(c)) ?? secret } } });
});
