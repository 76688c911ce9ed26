import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { recoverWebhookBody, TAG, webhookNotFound, webhookPath } from "./schema.ts";

export const recoverWebhook = defineOperation({
  method: "post",
  path: "/{id}/recover",
  operationId: "recoverWebhook",
  summary: "Resend the failed deliveries of a time window",
  description: "The endpoint's failed deliveries created in [since, until) get a fresh set of attempts under the " +
    "same delivery ids, oldest first, at most 1,000 per call: while `has_more` is true, call again with the same " +
    "window. With `dry_run` they are only counted. A disabled endpoint is refused: enable it first.",
  tags: [TAG],
  permission: "webhooks:write",
  params: webhookPath,
  body: { schema: recoverWebhookBody, what: "recovery" },
  success: {
    status: 202,
    description: "How many deliveries are queued again (or would be, on a dry run)",
    schema: () =>
      z.strictObject({
        data: z.strictObject({
          count: z.number().int().min(0),
          has_more: z.boolean().meta({ description: "Failed deliveries of the window remain: call again" }),
        }),
      }),
  },
  errors: ["webhook_not_found", "webhook_disabled"],
  call: {
    rpc: "recover_webhook_deliveries",
    args: ({ params, body }) => ({
      p_id: params.id,
      p_since: body.since,
      p_until: body.until ?? null,
      p_dry_run: body.dry_run ?? false,
    }),
  },
}, (c, result) => {
  if (result.outcome === "not_found") throw webhookNotFound();
  if (result.outcome === "disabled") {
    throw new ApiError(
      "webhook_disabled",
      "This webhook is disabled, so its deliveries would be cancelled, not sent. Enable it first (PATCH active: true).",
    );
  }
  return respond(c, { data: { count: result.count, has_more: result.has_more } }, 202);
});
