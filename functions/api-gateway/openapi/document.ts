// The OpenAPI 3.1 document, generated from the operation definitions and the webhook payload schemas. Served
// at GET /openapi.json and committed as docs/openapi.json (`npm run openapi`).
import { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import { FUNCTION_NAME } from "../app.ts";
import { mergePath } from "hono/utils/url";
import type { GatewayEnv } from "../context.ts";
import { MOUNTED_OPERATIONS } from "../operations.ts";
import { registerSharedComponents } from "./components.ts";
import { documentOperation } from "./operation-document.ts";
import { WEBHOOK_PAYLOADS } from "@shared/webhooks/payload.ts";
import { HIGH_TIER_FACTOR, PLAN_LIMITS } from "@shared/workspaces/plans.ts";

const INFO = {
  title: "LeadLex API",
  version: "1.0.0",
  description: [
    "Campaigns, webhooks and API keys of a LeadLex workspace.",
    "",
    "Authenticate with a workspace key: `Authorization: Bearer wbk_...`. Every response carries `X-Request-ID`;",
    "metered keys also get `X-RateLimit-*`, `RateLimit-Policy` and `RateLimit`. Delivery semantics, signatures,",
    "retries and rate-limit windows are described in docs/api-behaviour.md of the repository.",
    "",
    "Not for browsers: keys are secret, so the API sends no CORS headers, and a preflight (`OPTIONS`) is answered",
    "`405 method_not_allowed` saying so. Call it from your server.",
    "",
    "Rate limits, per workspace (keys on the `high` tier: " +
    `${HIGH_TIER_FACTOR} times these; \`unmetered\` keys: none):`,
    "",
    "| plan | per day | per minute |",
    "|---|---|---|",
    ...Object.entries(PLAN_LIMITS).map(([plan, { perDay, perMinute }]) => `| ${plan} | ${perDay} | ${perMinute} |`),
  ].join("\n"),
};

/** The committed document's server: production, with the project's reference to fill in. */
const PRODUCTION_SERVER = {
  url: `https://{project}.supabase.co/functions/v1/${FUNCTION_NAME}`,
  description: "Your Supabase project (or a custom domain in front of it)",
  variables: { project: { default: "your-project", description: "The project's reference" } },
};

/**
 * The headers of every delivery (docs/api-behaviour.md, "Webhook deliveries"); tests/openapi/webhook-payloads.test.ts
 * holds real deliveries against them.
 */
const DELIVERY_HEADERS = z.object({
  "webhook-id": z.uuid().meta({ description: "Standard Webhooks: the delivery id, the same on every attempt" }),
  "webhook-timestamp": z.string().regex(/^\d+$/).meta({
    description: "Standard Webhooks: Unix seconds of this attempt",
  }),
  "webhook-signature": z.string().regex(/^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$/).meta({
    description: "Standard Webhooks: `v1,<base64>`, HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed " +
      "with the base64-decoded part of the secret after `whsec_`; one entry per valid secret, space-separated, newest first",
  }),
  "X-LeadLex-Delivery-ID": z.uuid().meta({ description: "The delivery id, equal to `webhook-id`: deduplicate on it" }),
  "X-LeadLex-Timestamp": z.string().meta({
    format: "date-time",
    description: "ISO 8601 time of this attempt. Not covered by `X-LeadLex-Signature`: use `webhook-timestamp` to " +
      "refuse old deliveries",
  }),
  "X-LeadLex-Signature": z.string().regex(/^sha256=[0-9a-f]{64}(, sha256=[0-9a-f]{64})*$/).meta({
    description: "Legacy: `sha256=<hex>`, HMAC-SHA256 of the body alone keyed with the whole secret string (UTF-8); " +
      "one entry per valid secret, comma-separated, newest first",
  }),
});

const VERIFY = [
  "",
  "Verify before parsing, over the body bytes as received: compute `webhook-signature`'s HMAC over",
  "`{webhook-id}.{webhook-timestamp}.{body}` with the base64-decoded secret after `whsec_`, compare it in constant",
  "time with each `v1,` entry, and refuse a `webhook-timestamp` more than a few minutes from your clock (any",
  "Standard Webhooks library does all of this). The legacy `X-LeadLex-Signature` covers the body only, not the",
  "timestamp or the delivery id, so a captured delivery can be replayed against it at any later time: prefer the",
  "Standard Webhooks headers. Deliveries come at least once: deduplicate on `webhook-id`.",
].join("\n");

const WEBHOOK_DESCRIPTIONS: Record<keyof typeof WEBHOOK_PAYLOADS, string> = {
  "campaign.created": "A campaign was created.",
  "campaign.started": "A campaign was started (from draft or paused).",
  "campaign.paused": "A campaign was paused.",
  "campaign.deleted": "A draft campaign was deleted; `data.campaign` is the campaign as it was just before.",
  "webhook.endpoint_disabled":
    "The system disabled another endpoint of the workspace (it answered 410 Gone, or every attempt failed for days).",
  "webhook.test": "Sent by `POST /v1/webhooks/{id}/test` to that endpoint only.",
};

function registerWebhookEvents(api: OpenAPIHono<GatewayEnv>): void {
  for (const [event, schema] of Object.entries(WEBHOOK_PAYLOADS)) {
    api.openAPIRegistry.registerWebhook({
      method: "post",
      path: event,
      operationId: `webhook:${event}`,
      summary: event,
      description: `${WEBHOOK_DESCRIPTIONS[event as keyof typeof WEBHOOK_PAYLOADS]}\n${VERIFY}`,
      tags: ["Webhook events"],
      // Your endpoint authenticates LeadLex by the signature headers, not by a scheme of this API's.
      security: [],
      request: { headers: DELIVERY_HEADERS, body: { required: true, content: { "application/json": { schema } } } },
      responses: {
        200: { description: "Any 2xx within 10 seconds acknowledges the delivery; anything else is retried" },
      },
    });
  }
}

/**
 * The document, built from the operation definitions in a registry of its own that is dropped afterwards: the
 * router keeps none of it (see Operation.documented).
 */
export function openApiDocument(publicUrl?: string) {
  const api = new OpenAPIHono<GatewayEnv>();
  registerSharedComponents(api.openAPIRegistry);
  for (const { prefix, operations } of MOUNTED_OPERATIONS) {
    for (const operation of operations) {
      api.openAPIRegistry.registerPath({
        ...documentOperation(operation.documented),
        path: mergePath(prefix, operation.path),
      });
    }
  }
  registerWebhookEvents(api);
  return api.getOpenAPI31Document({
    openapi: "3.1.0",
    info: INFO,
    servers: publicUrl ? [{ url: publicUrl, description: "This deployment" }] : [PRODUCTION_SERVER],
    tags: [
      { name: "Campaigns", description: "Email campaigns and their lifecycle: draft, active, paused" },
      { name: "Webhooks", description: "Endpoints that receive the workspace's events, and their deliveries" },
      { name: "API keys", description: "The workspace's keys; a key can make and revoke keys no stronger than itself" },
      { name: "Operations", description: "Health check for load balancers and uptime monitors; no key needed" },
      { name: "Webhook events", description: "What LeadLex POSTs to your registered endpoints" },
    ],
  });
}
