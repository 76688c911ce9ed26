import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { newSigningSecret } from "@shared/webhooks/signing.ts";
import { replayedSecret, sealSecret } from "@gateway/http/idempotency.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import {
  createdWebhookResponse,
  createWebhookBody,
  duplicateWebhook,
  TAG,
  WEBHOOK_FIELD_CODES,
  withAllowedUrl,
} from "./schema.ts";

export const createWebhook = defineOperation({
  method: "post",
  path: "/",
  operationId: "createWebhook",
  summary: "Register a webhook endpoint",
  description: "The response carries the endpoint's signing secret, shown only here.",
  tags: [TAG],
  permission: "webhooks:write",
  body: { schema: createWebhookBody, what: "webhook", fieldCodes: WEBHOOK_FIELD_CODES },
  success: { status: 201, description: "The new endpoint, with its secret", schema: createdWebhookResponse },
  errors: ["invalid_url", "invalid_events", "duplicate_webhook", "webhook_limit_reached"],
  prepare: async (c, { body }, check) => {
    const fields = await withAllowedUrl(c, body, check);
    const secret = newSigningSecret();
    // The result the database keeps for a replay holds no secret; the replay decrypts it with the Idempotency-Key.
    await sealSecret(c, secret);
    return { fields, secret };
  },
  call: {
    rpc: "create_webhook",
    args: ({ prepared }) => ({ p_fields: prepared.fields, p_secret: prepared.secret }),
  },
}, async (c, result, { prepared: { secret } }) => {
  if (result.outcome === "duplicate") throw duplicateWebhook();
  if (result.outcome === "limit_reached") {
    throw new ApiError(
      "webhook_limit_reached",
      `This workspace already has ${result.limit} webhook endpoints, its limit. Delete one, or ask support for more.`,
      { details: { limit: result.limit } },
    );
  }
  return respond(c, { data: { webhook: { ...result.webhook, secret: (await replayedSecret(c)) ?? secret } } }, 201);
});
