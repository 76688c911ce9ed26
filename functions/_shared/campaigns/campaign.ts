// The campaign as the database stores it and as the API and webhook payloads show it (docs/api-behaviour.md).
// The limits here are the ones the table's CHECK constraints enforce; tests/db/shared-facts.test.ts compares them.
import { z } from "zod";
import { documentSchema } from "../http/document-schema.ts";

export const CAMPAIGN_STATUSES = ["draft", "pending_approval", "active", "paused", "completed"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CAMPAIGN_LIMITS = {
  nameMaxLength: 200,
  descriptionMaxLength: 2000,
  templateMaxLength: 100_000,
  dailySendLimit: { min: 1, max: 500 },
  delayBetweenEmailsMin: 30,
} as const;

/** The campaign object (the `campaign_json` SQL function builds exactly these fields). */
export const campaignObject = documentSchema(() => {
  const timestamp = z.string().meta({ format: "date-time", description: "ISO 8601, UTC, `Z` suffix" });
  const nullableTimestamp = timestamp.nullable();
  return z.strictObject({
    id: z.string().meta({ format: "uuid" }),
    name: z.string().max(CAMPAIGN_LIMITS.nameMaxLength),
    description: z.string().max(CAMPAIGN_LIMITS.descriptionMaxLength).nullable(),
    template: z.string().max(CAMPAIGN_LIMITS.templateMaxLength).nullable(),
    status: z.enum(CAMPAIGN_STATUSES),
    daily_send_limit: z.number().int().min(CAMPAIGN_LIMITS.dailySendLimit.min).max(CAMPAIGN_LIMITS.dailySendLimit.max),
    delay_between_emails: z.number().int().min(CAMPAIGN_LIMITS.delayBetweenEmailsMin),
    sending_timezone: z.string().meta({ description: "IANA time zone" }),
    send_on_weekends: z.boolean(),
    track_opens: z.boolean(),
    track_clicks: z.boolean(),
    show_unsubscribe: z.boolean(),
    created_at: timestamp,
    updated_at: timestamp,
    started_at: nullableTimestamp,
    paused_at: nullableTimestamp,
  }).meta({ id: "Campaign" });
});

export type Campaign = z.infer<ReturnType<typeof campaignObject>>;
