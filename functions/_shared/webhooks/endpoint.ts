// Webhook endpoints, deliveries and attempts: the values the tables' CHECK constraints allow and the objects the
// API shows. tests/db/shared-facts.test.ts compares the lists with the database.
import { z } from "zod";
import { documentSchema } from "../http/document-schema.ts";
import { SUBSCRIBABLE_EVENTS } from "./events.ts";
import { WEBHOOK_URL_MAX_BYTES } from "./url-policy.ts";

export const WEBHOOK_DESCRIPTION_MAX_LENGTH = 200;

/** How long a rotated-out signing secret keeps signing deliveries: 0 to 7 days, 24 h unless the caller says. */
export const SECRET_OVERLAP_MAX_SECONDS = 7 * 24 * 3600;
export const SECRET_OVERLAP_DEFAULT_SECONDS = 24 * 3600;

/** A delivery's state: one row per (event, endpoint). */
export const DELIVERY_STATUSES = ["pending", "success", "failed", "cancelled"] as const;
/** What a pending delivery waits on (webhook_delivery_json). */
export const DELIVERY_WAITS = ["in_flight", "endpoint_backoff"] as const;
/** One attempt's own outcome; `pending` only while it is in flight. */
export const ATTEMPT_STATUSES = ["success", "failed", "pending"] as const;
/** Why the system disabled an endpoint: it answered 410 Gone, or every attempt failed for days. */
export const DISABLED_REASONS = ["gone", "failing"] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];
/**
 * Why an attempt failed. `attempt_lost`: the worker sending it was gone before it recorded anything (counted by the
 * next claim of the delivery); `malformed_response`: the receiver did not speak HTTP/1.x within the attempt's bounds.
 */
export const ATTEMPT_ERRORS = [
  "timeout",
  "connection_refused",
  "tls_error",
  "dns_failure",
  "http_error",
  "malformed_response",
  "blocked_url",
  "attempt_lost",
] as const;

const timestamp = () => z.string().meta({ format: "date-time" });

/** The webhook object (the `webhook_json` SQL function builds exactly these fields); never the secret. */
export const webhookObject = documentSchema(() =>
  z.strictObject({
    id: z.string().meta({ format: "uuid" }),
    // A character never takes less than a byte, so the byte limit bounds the length too.
    url: z.string().max(WEBHOOK_URL_MAX_BYTES),
    events: z.array(z.enum(SUBSCRIBABLE_EVENTS)),
    description: z.string().max(WEBHOOK_DESCRIPTION_MAX_LENGTH).nullable(),
    active: z.boolean(),
    disabled_reason: z.enum(DISABLED_REASONS).nullable()
      .meta({ description: "Why the system disabled the endpoint; null while active or when disabled by hand" }),
    created_at: timestamp(),
    updated_at: timestamp(),
  }).meta({ id: "Webhook" })
);

export type Webhook = z.infer<ReturnType<typeof webhookObject>>;

/** A webhook in the list, with how its latest attempt went. */
export const listedWebhookObject = documentSchema(() =>
  webhookObject().extend({
    last_delivery_status: z.enum(ATTEMPT_STATUSES).nullable().meta({ description: "The latest attempt's outcome" }),
    last_delivery_at: z.string().meta({ format: "date-time" }).nullable(),
  }).meta({ id: "ListedWebhook" })
);

/** One row of `GET /v1/webhooks/{id}/logs`: a delivery attempt. */
export const attemptLogObject = documentSchema(() =>
  z.strictObject({
    delivery_id: z.string().meta({ format: "uuid" }),
    event: z.string(),
    attempt: z.number().int().min(1),
    status: z.enum(ATTEMPT_STATUSES),
    status_code: z.number().int().nullable(),
    error: z.enum(ATTEMPT_ERRORS).nullable(),
    response_body: z.string().nullable().meta({ description: "The first 2 KB of the receiver's answer" }),
    duration_ms: z.number().int(),
    created_at: timestamp(),
    next_attempt_at: timestamp().nullable().meta({ description: "When the delivery will be tried again, if it will" }),
  }).meta({ id: "AttemptLog" })
);

export type AttemptLog = z.infer<ReturnType<typeof attemptLogObject>>;

/** One row of `GET /v1/webhooks/{id}/deliveries`: an event's delivery to the endpoint, across its attempts. */
export const deliveryObject = documentSchema(() =>
  z.strictObject({
    delivery_id: z.string().meta({ format: "uuid" }),
    event: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int().min(0).meta({ description: "How many attempts its log shows" }),
    last_status_code: z.number().int().nullable().meta({ description: "The latest attempt's HTTP status, if any" }),
    next_attempt_at: timestamp().nullable().meta({
      description: "When it will be tried next, its endpoint's back-off included; null unless pending",
    }),
    waiting_on: z.enum(DELIVERY_WAITS).nullable().meta({
      description: "Why a pending delivery is not being sent now: an attempt is in flight, or its endpoint is backed " +
        "off after failing repeatedly; null otherwise",
    }),
    created_at: timestamp(),
    completed_at: timestamp().nullable(),
  }).meta({ id: "Delivery" })
);

export type Delivery = z.infer<ReturnType<typeof deliveryObject>>;
