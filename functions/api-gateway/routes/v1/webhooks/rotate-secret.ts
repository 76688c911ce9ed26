import { respond } from "@shared/http/respond.ts";
import { newSigningSecret } from "@shared/webhooks/signing.ts";
import { replayedSecret, sealSecret } from "@gateway/http/idempotency.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { createdWebhookResponse, rotateSecretBody, TAG, webhookNotFound, webhookPath } from "./schema.ts";

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
  prepare: async (c) => {
    const secret = newSigningSecret();
    // Sealed for a replay, as at creation (create.ts).
    await sealSecret(c, secret);
    return secret;
  },
  call: {
    rpc: "rotate_webhook_secret",
    args: ({ params, body, prepared }) => ({
      p_id: params.id,
      p_secret: prepared,
      p_overlap_seconds: body.overlap_seconds,
    }),
  },
}, async (c, result, { prepared: secret }) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  return respond(c, { data: { webhook: { ...result.webhook, secret: (await replayedSecret(c)) ?? secret } } });
});
