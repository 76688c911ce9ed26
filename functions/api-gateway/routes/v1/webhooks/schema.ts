import { z } from "zod";
import type { GatewayContext } from "@gateway/context.ts";
import { documentSchema } from "@shared/http/document-schema.ts";
import { isoInstant } from "@shared/http/iso-time.ts";
import { ApiError, type ErrorCode } from "@shared/http/errors.ts";
import { listMeta, listQuery } from "@shared/http/pagination.ts";
import { uuidPathParams } from "@gateway/http/params.ts";
import {
  ATTEMPT_STATUSES,
  DELIVERY_STATUSES,
  listedWebhookObject,
  SECRET_OVERLAP_DEFAULT_SECONDS,
  SECRET_OVERLAP_MAX_SECONDS,
  webhookObject,
} from "@shared/webhooks/endpoint.ts";
import { checkWebhookUrl } from "@shared/webhooks/url-policy.ts";

export type { Webhook } from "@shared/webhooks/endpoint.ts";
export { createWebhookBody, updateWebhookBody } from "@shared/webhooks/endpoint-fields.ts";

export const TAG = "Webhooks";

export function webhookNotFound(): ApiError {
  return new ApiError("webhook_not_found", "No webhook with this ID");
}

export function duplicateWebhook(): ApiError {
  return new ApiError("duplicate_webhook", "A webhook with this URL already exists in this workspace");
}

export function deliveryNotFound(): ApiError {
  return new ApiError("delivery_not_found", "No delivery with this ID for this webhook");
}

export const webhookPath = uuidPathParams(["id", "The webhook's id", webhookNotFound]);
export const deliveryPath = uuidPathParams(
  ["id", "The webhook's id", webhookNotFound],
  ["delivery_id", "The delivery's id", deliveryNotFound],
);

/** Fields whose problems have a dedicated error code in the contract. */
export const WEBHOOK_FIELD_CODES: Partial<Record<string, ErrorCode>> = {
  url: "invalid_url",
  events: "invalid_events",
};

/**
 * `fields` with its url, if any, passed through the URL policy (scheme, credentials, where the host resolves)
 * and normalised, so that the duplicate check sees `https://Example.com/x` and `https://example.com/x` as one.
 * An operation's `prepare`: a refusal is the request's 400 once the key is admitted. A host name is resolved
 * only after `check` found the key admitted (gateway_preflight, a second round trip for these writes only):
 * nobody without a valid key can make the server look names up (docs/api-behaviour.md).
 */
export async function withAllowedUrl<F extends { url?: string }>(
  c: GatewayContext,
  fields: F,
  check: () => Promise<void>,
): Promise<F> {
  if (fields.url === undefined) return fields;
  const { resolveHost, allowPrivateWebhookUrls } = c.var.services;
  const verdict = await checkWebhookUrl(fields.url, resolveHost, allowPrivateWebhookUrls, check);
  if (!verdict.ok) {
    throw new ApiError("invalid_url", verdict.reason, { details: { fields: { url: verdict.reason } } });
  }
  return { ...fields, url: verdict.url.href };
}

export const listWebhooksQuery = listQuery("webhooks", {});

/** Attempts are numbered (bigint), not uuids. */
export const webhookLogsQuery = listQuery("logs", {
  status: z.enum(ATTEMPT_STATUSES, `Must be one of: ${ATTEMPT_STATUSES.join(", ")}`).optional(),
}, z.string().regex(/^[1-9]\d{0,17}$/));

export const webhookDeliveriesQuery = listQuery("deliveries", {
  status: z.enum(DELIVERY_STATUSES, `Must be one of: ${DELIVERY_STATUSES.join(", ")}`).optional(),
});

export const recoverWebhookBody = z.strictObject({
  since: isoInstant.meta({ description: "Failed deliveries created at or after this time" }),
  until: isoInstant.optional().meta({ description: "...and before this time; no upper bound when absent" }),
  dry_run: z.boolean().optional().meta({ description: "Only count them; default false" }),
}, { error: "Expected a JSON object" })
  .refine((body) => body.until === undefined || body.since <= body.until, {
    message: "Must not be before since",
    path: ["until"],
  }).meta({ id: "WebhookRecover" });

const OVERLAP_PROBLEM = `Must be a whole number of seconds from 0 to ${SECRET_OVERLAP_MAX_SECONDS}`;

export const rotateSecretBody = z.strictObject({
  overlap_seconds: z.number(OVERLAP_PROBLEM).int(OVERLAP_PROBLEM).min(0, OVERLAP_PROBLEM)
    .max(SECRET_OVERLAP_MAX_SECONDS, OVERLAP_PROBLEM).optional()
    // Not `.default()`: generated clients take a body field with a `default` in the document as required.
    .transform((seconds) => seconds ?? SECRET_OVERLAP_DEFAULT_SECONDS)
    .meta({
      description: "How long the old secret keeps signing deliveries too; 0 ends it at once. " +
        `Default ${SECRET_OVERLAP_DEFAULT_SECONDS}`,
    }),
}, { error: "Expected a JSON object" }).meta({ id: "WebhookSecretRotation" });

/** `{"data": {"webhook": {...}}}` */
export const webhookResponse = () => z.strictObject({ data: z.strictObject({ webhook: webhookObject() }) });

/** The webhook as created: the only time its signing secret is shown. */
export const createdWebhookResponse = documentSchema(() =>
  z.strictObject({
    data: z.strictObject({
      webhook: webhookObject().extend({
        secret: z.string().meta({ description: "`whsec_` + base64; shown only here" }),
      }).meta({ id: "WebhookWithSecret" }),
    }),
  })
);

export const webhookListResponse = () =>
  z.strictObject({
    data: z.strictObject({ webhooks: z.array(listedWebhookObject()) }),
    meta: listMeta(),
  });

/** `{"data": {"delivery_id": "..."}}`, for the operations that queue a delivery. */
export const queuedDeliveryResponse = () =>
  z.strictObject({
    data: z.strictObject({ delivery_id: z.string().meta({ format: "uuid" }) }),
  });
