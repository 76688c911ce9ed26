// The JSON body every webhook delivery carries, per event. The dispatcher sends exactly this shape
// (delivery-request.ts) and the OpenAPI document's `webhooks` section is generated from these schemas.
import { z } from "zod";
import { campaignObject } from "../campaigns/campaign.ts";
import { webhookObject } from "./endpoint.ts";
import { CAMPAIGN_EVENTS, ENDPOINT_DISABLED_EVENT, TEST_EVENT } from "./events.ts";

function envelope<E extends string, D extends z.ZodType>(event: E, data: D) {
  return z.strictObject({
    event: z.literal(event),
    delivery_id: z.string().meta({ format: "uuid", description: "The same on every attempt: deduplicate on it" }),
    occurred_at: z.string().meta({ format: "date-time", description: "When the change was committed" }),
    workspace_id: z.string().meta({ format: "uuid" }),
    data,
  });
}

const campaignData = z.strictObject({ campaign: campaignObject() });
const webhookData = z.strictObject({ webhook: webhookObject() });

/** Each event's payload; for `campaign.deleted`, the campaign as it was just before deletion. */
export const WEBHOOK_PAYLOADS = {
  ...Object.fromEntries(CAMPAIGN_EVENTS.map((event) => [event, envelope(event, campaignData)])) as {
    [E in (typeof CAMPAIGN_EVENTS)[number]]: ReturnType<typeof envelope<E, typeof campaignData>>;
  },
  /** `data.webhook`: the endpoint as it was disabled, with its `disabled_reason`. */
  [ENDPOINT_DISABLED_EVENT]: envelope(ENDPOINT_DISABLED_EVENT, webhookData),
  [TEST_EVENT]: envelope(TEST_EVENT, webhookData),
};

export type WebhookPayload = z.infer<(typeof WEBHOOK_PAYLOADS)[keyof typeof WEBHOOK_PAYLOADS]>;
