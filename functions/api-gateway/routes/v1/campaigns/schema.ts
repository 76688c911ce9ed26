import { z } from "zod";
import { ApiError, type ErrorCode } from "../../../../_shared/http/errors.ts";
import type { GatewayContext } from "../../../../_shared/http/context.ts";
import { pagination } from "../../../../_shared/http/pagination.ts";
import { uuidParam } from "../../../../_shared/http/params.ts";

export const CAMPAIGN_STATUSES = ["draft", "pending_approval", "active", "paused", "completed"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** The campaign object as the RPCs return it (already in the contract's shape). */
export interface Campaign {
  id: string;
  status: CampaignStatus;
  paused_at: string | null;
  [field: string]: unknown;
}

export function campaignNotFound(): ApiError {
  return new ApiError("campaign_not_found", "No campaign with this ID");
}

export const campaignIdParam = (c: GatewayContext): string => uuidParam(c, "id", campaignNotFound);

function canonicalTimezone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const timezone = z.string().transform((name, ctx) => {
  const canonical = canonicalTimezone(name);
  if (!canonical) {
    ctx.addIssue({ code: "custom", message: `Unknown IANA time zone: ${name}` });
    return z.NEVER;
  }
  return canonical;
});

const NAME_LENGTH = "Must be 1 to 200 characters";
// The column is a Postgres integer: anything above its maximum would fail in the RPC as a 500.
const INT4_MAX = 2_147_483_647;

const writableFields = {
  name: z.string({ error: (issue) => (issue.input === undefined ? "Required" : "Expected a string") })
    .min(1, NAME_LENGTH).max(200, NAME_LENGTH),
  description: z.string().max(2000, "Must be at most 2000 characters").nullable(),
  template: z.string().max(100_000, "Must be at most 100000 characters").nullable(),
  daily_send_limit: z.number().int("Must be an integer from 1 to 500")
    .min(1, "Must be an integer from 1 to 500").max(500, "Must be an integer from 1 to 500"),
  delay_between_emails: z.number().int(`Must be an integer from 30 to ${INT4_MAX} seconds`)
    .min(30, `Must be an integer from 30 to ${INT4_MAX} seconds`)
    .max(INT4_MAX, `Must be an integer from 30 to ${INT4_MAX} seconds`),
  sending_timezone: timezone,
  send_on_weekends: z.boolean(),
  track_opens: z.boolean(),
  track_clicks: z.boolean(),
  show_unsubscribe: z.boolean(),
};

export const updateCampaignBody = z.strictObject(writableFields, { error: "Expected a JSON object" }).partial();
export const createCampaignBody = updateCampaignBody.extend({ name: writableFields.name });

/** Fields whose problems have a dedicated error code in the contract. */
export const CAMPAIGN_FIELD_CODES: Partial<Record<string, ErrorCode>> = {
  daily_send_limit: "invalid_send_limit",
  sending_timezone: "invalid_timezone",
};

export const listCampaignsQuery = z.strictObject({
  status: z.enum(CAMPAIGN_STATUSES, `Must be one of: ${CAMPAIGN_STATUSES.join(", ")}`).optional(),
  ...pagination,
});
