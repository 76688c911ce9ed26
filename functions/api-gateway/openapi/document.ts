// The OpenAPI 3.1 document, generated from the operation definitions and the webhook payload schemas. Served
// at GET /openapi.json and committed as docs/openapi.json (`npm run openapi`).
import { OpenAPIHono } from "@hono/zod-openapi";
import { mergePath } from "hono/utils/url";
import type { GatewayEnv } from "../context.ts";
import { MOUNTED_OPERATIONS } from "../operations.ts";
import { registerSharedComponents } from "./components.ts";
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
    "Rate limits, per workspace (keys on the `high` tier: " + `${HIGH_TIER_FACTOR} times these; \`unmetered\` keys: none):`,
    "",
    "| plan | per day | per minute |",
    "|---|---|---|",
    ...Object.entries(PLAN_LIMITS).map(([plan, { perDay, perMinute }]) => `| ${plan} | ${perDay} | ${perMinute} |`),
  ].join("\n"),
};

const SERVERS = [
  { url: "https://{project}.supabase.co/functions/v1/api-gateway", variables: { project: { default: "your-project" } } },
  { url: "http://127.0.0.1:54321/functions/v1/api-gateway", description: "npm start" },
];

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
      description: `${WEBHOOK_DESCRIPTIONS[event as keyof typeof WEBHOOK_PAYLOADS]} Signed with ` +
        "`X-LeadLex-Signature` and the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, " +
        "`webhook-signature`).",
      tags: ["Webhook events"],
      request: { body: { required: true, content: { "application/json": { schema } } } },
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
export function openApiDocument() {
  const api = new OpenAPIHono<GatewayEnv>();
  registerSharedComponents(api.openAPIRegistry);
  for (const { prefix, operations } of MOUNTED_OPERATIONS) {
    for (const operation of operations) {
      api.openAPIRegistry.registerPath({ ...operation.documented(), path: mergePath(prefix, operation.path) });
    }
  }
  registerWebhookEvents(api);
  return api.getOpenAPI31Document({
    openapi: "3.1.0",
    info: INFO,
    servers: SERVERS,
    tags: [
      { name: "Campaigns" },
      { name: "Webhooks" },
      { name: "API keys" },
      { name: "Operations" },
      { name: "Webhook events", description: "What LeadLex POSTs to your registered endpoints" },
    ],
  });
}
