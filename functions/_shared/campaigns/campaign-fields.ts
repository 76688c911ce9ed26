// What a caller may set on a campaign: the bodies of create and update, as the API validates them and as the
// campaign RPCs receive them (functions/_shared/db/rpc-catalogue.ts). The limits are the table's (campaign.ts).
import { z } from "zod";
import { CAMPAIGN_LIMITS } from "./campaign.ts";

function canonicalTimezone(name: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

// The longest IANA name is about 30 characters; the bound is for the document, which must state one.
const TIMEZONE_MAX_LENGTH = 64;

const timezone = z.string().max(TIMEZONE_MAX_LENGTH, "Unknown IANA time zone").transform((name, ctx) => {
  const canonical = canonicalTimezone(name);
  if (!canonical) {
    ctx.addIssue({ code: "custom", message: `Unknown IANA time zone: ${name}` });
    return z.NEVER;
  }
  return canonical;
}).meta({ description: "An IANA time zone, e.g. Europe/Berlin", example: "UTC" });

const { nameMaxLength, descriptionMaxLength, templateMaxLength, dailySendLimit, delayBetweenEmailsMin } =
  CAMPAIGN_LIMITS;
const NAME_LENGTH = `Must be 1 to ${nameMaxLength} characters`;
// The column is a Postgres integer: anything above its maximum would fail in the RPC as a 500.
const INT4_MAX = 2_147_483_647;
const SEND_LIMIT = `Must be an integer from ${dailySendLimit.min} to ${dailySendLimit.max}`;
const DELAY = `Must be an integer from ${delayBetweenEmailsMin} to ${INT4_MAX} seconds`;

const writableFields = {
  name: z.string({ error: (issue) => (issue.input === undefined ? "Required" : "Expected a string") })
    .min(1, NAME_LENGTH).max(nameMaxLength, NAME_LENGTH),
  description: z.string().max(descriptionMaxLength, `Must be at most ${descriptionMaxLength} characters`).nullable(),
  template: z.string().max(templateMaxLength, `Must be at most ${templateMaxLength} characters`).nullable(),
  daily_send_limit: z.number().int(SEND_LIMIT).min(dailySendLimit.min, SEND_LIMIT).max(dailySendLimit.max, SEND_LIMIT)
    .meta({ description: "Default 50" }),
  delay_between_emails: z.number().int(DELAY).min(delayBetweenEmailsMin, DELAY).max(INT4_MAX, DELAY)
    .meta({ description: "Seconds; default 60" }),
  sending_timezone: timezone,
  send_on_weekends: z.boolean(),
  track_opens: z.boolean(),
  track_clicks: z.boolean(),
  show_unsubscribe: z.boolean(),
};

export const updateCampaignBody = z.strictObject(writableFields, { error: "Expected a JSON object" }).partial()
  .meta({ id: "CampaignUpdate" });
export const createCampaignBody = updateCampaignBody.extend({ name: writableFields.name })
  .meta({ id: "CampaignCreate" });
