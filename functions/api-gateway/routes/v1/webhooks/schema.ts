import { z } from "zod";
import type { GatewayContext } from "../../../../_shared/http/context.ts";
import { ApiError, type ErrorCode } from "../../../../_shared/http/errors.ts";
import { nameList } from "../../../../_shared/http/name-list.ts";
import { pagination } from "../../../../_shared/http/pagination.ts";
import { uuidParam } from "../../../../_shared/http/params.ts";
import { SUBSCRIBABLE_EVENTS, type SubscribableEvent } from "../../../../_shared/webhooks/events.ts";
import type { DisabledReason } from "../../../../_shared/webhooks/delivery-queue.ts";
import { checkWebhookUrl } from "../../../../_shared/webhooks/url-policy.ts";

/** The webhook object as the RPCs return it (already in the contract's shape, never with the secret). */
export interface Webhook {
  id: string;
  url: string;
  events: SubscribableEvent[];
  description: string | null;
  active: boolean;
  /** Why the system disabled the endpoint; null while active or when disabled by hand. */
  disabled_reason: DisabledReason | null;
  created_at: string;
  updated_at: string;
}

export function webhookNotFound(): ApiError {
  return new ApiError("webhook_not_found", "No webhook with this ID");
}

export function duplicateWebhook(): ApiError {
  return new ApiError("duplicate_webhook", "A webhook with this URL already exists in this workspace");
}

export const webhookIdParam = (c: GatewayContext): string => uuidParam(c, "id", webhookNotFound);

const URL_PROBLEM = "Must be an https:// URL";
const events = nameList(SUBSCRIBABLE_EVENTS, "events");

// url and events are required without `.required()`, whose generic message would hide the field's own problem.
export const createWebhookBody = z.strictObject({
  // Its length is limited once normalised, in bytes (checkWebhookUrl): what is stored, not what was typed.
  url: z.string(URL_PROBLEM).min(1, URL_PROBLEM),
  events,
  description: z.string().max(200, "Must be at most 200 characters").nullable().optional(),
  active: z.boolean().optional(),
}, { error: "Expected a JSON object" });
export const updateWebhookBody = createWebhookBody.partial();

/** Fields whose problems have a dedicated error code in the contract. */
export const WEBHOOK_FIELD_CODES: Partial<Record<string, ErrorCode>> = {
  url: "invalid_url",
  events: "invalid_events",
};

/**
 * `fields` with its url, if any, passed through the URL policy (scheme, credentials, where the host resolves)
 * and normalised, so that the duplicate check sees `https://Example.com/x` and `https://example.com/x` as one.
 */
export async function withAllowedUrl<F extends { url?: string }>(c: GatewayContext, fields: F): Promise<F> {
  if (fields.url === undefined) return fields;
  const { resolveHost, allowPrivateWebhookUrls } = c.var.services;
  const verdict = await checkWebhookUrl(fields.url, resolveHost, allowPrivateWebhookUrls);
  if (!verdict.ok) {
    throw new ApiError("invalid_url", verdict.reason, { details: { fields: { url: verdict.reason } } });
  }
  return { ...fields, url: verdict.url.href };
}

export const listWebhooksQuery = z.strictObject(pagination);

export const ATTEMPT_STATUSES = ["success", "failed", "pending"] as const;

export const webhookLogsQuery = z.strictObject({
  status: z.enum(ATTEMPT_STATUSES, `Must be one of: ${ATTEMPT_STATUSES.join(", ")}`).optional(),
  ...pagination,
});
