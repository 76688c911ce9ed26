// What a caller may set on a webhook endpoint: the bodies of create and update, as the API validates them and as
// the webhook RPCs receive them (functions/_shared/db/rpc-catalogue.ts).
import { z } from "zod";
import { nameList } from "../http/name-list.ts";
import { WEBHOOK_DESCRIPTION_MAX_LENGTH } from "./endpoint.ts";
import { WEBHOOK_URL_MAX_BYTES } from "./url-policy.ts";
import { SUBSCRIBABLE_EVENTS } from "./events.ts";

const URL_PROBLEM = "Must be an https:// URL";
const URL_LENGTH_PROBLEM = `Must be at most ${WEBHOOK_URL_MAX_BYTES} characters`;
const events = nameList(SUBSCRIBABLE_EVENTS, "events").meta({
  description: `A non-empty list of: ${SUBSCRIBABLE_EVENTS.join(", ")}`,
});

// url and events are required without `.required()`, whose generic message would hide the field's own problem.
export const createWebhookBody = z.strictObject({
  // Bounded as typed here, as the document declares it, and again once normalised, in bytes (checkWebhookUrl):
  // what is stored, not what was typed.
  url: z.string(URL_PROBLEM).min(1, URL_PROBLEM).max(WEBHOOK_URL_MAX_BYTES, URL_LENGTH_PROBLEM).meta({
    format: "uri",
    description:
      `https:// only, at most ${WEBHOOK_URL_MAX_BYTES} bytes once normalised; must resolve to public addresses only`,
  }),
  events,
  description: z.string().max(
    WEBHOOK_DESCRIPTION_MAX_LENGTH,
    `Must be at most ${WEBHOOK_DESCRIPTION_MAX_LENGTH} characters`,
  )
    .nullable().optional(),
  active: z.boolean().optional(),
}, { error: "Expected a JSON object" }).meta({ id: "WebhookCreate" });
export const updateWebhookBody = createWebhookBody.partial().meta({ id: "WebhookUpdate" });
