import type { WebhookPayload } from "./payload.ts";
import { signatureHeaders } from "./signing.ts";

/** One claimed attempt, as claim_webhook_deliveries returns it: everything needed to send it. */
export interface ClaimedDelivery {
  delivery_id: string;
  /** 1-based; also the fencing token that lets only this claim record the attempt. */
  attempt: number;
  /** Attempts spent of the schedule's six before this one (retry-schedule.ts). */
  spent: number;
  /** How long the current retry window stays open: 0 once over, null before the first spent attempt. */
  window_left_ms: number | null;
  endpoint_id: string;
  workspace_id: string;
  event: string;
  occurred_at: string;
  data: unknown;
  url: string;
  /** The endpoint's valid signing secrets, newest first: two while a rotation's overlap lasts. */
  secrets: string[];
}

export const USER_AGENT = "LeadLex-Webhook/1.0";

/**
 * The request a receiver sees (docs/api-behaviour.md, "Webhook deliveries"): the JSON envelope, whose shape
 * payload.ts declares per event, and the headers that sign it.
 */
export async function buildDeliveryRequest(
  delivery: ClaimedDelivery,
  sentAt: Date,
): Promise<{ body: string; headers: Record<string, string> }> {
  // The SQL that queued the event wrote `event` and `data` together, so they match one of the payload schemas.
  const payload = {
    event: delivery.event,
    delivery_id: delivery.delivery_id,
    occurred_at: delivery.occurred_at,
    workspace_id: delivery.workspace_id,
    data: delivery.data,
  } as WebhookPayload;
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      "Content-Type": "application/json",
      "User-Agent": USER_AGENT,
      "X-LeadLex-Delivery-ID": delivery.delivery_id,
      "X-LeadLex-Timestamp": sentAt.toISOString(),
      ...(await signatureHeaders(delivery.secrets, delivery.delivery_id, body, sentAt)),
    },
  };
}
