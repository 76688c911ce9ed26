// Every operation of the gateway and the prefix it is mounted at: the router (app.ts) and the OpenAPI document
// (openapi/document.ts) are both built from this list.
import type { Operation } from "./http/operation.ts";
import { health } from "./routes/health.ts";
import { apiKeyOperations } from "./routes/v1/api-keys/index.ts";
import { campaignOperations } from "./routes/v1/campaigns/index.ts";
import { webhookOperations } from "./routes/v1/webhooks/index.ts";

export const MOUNTED_OPERATIONS: readonly { prefix: string; operations: readonly Operation[] }[] = [
  { prefix: "/", operations: [health] },
  { prefix: "/v1/campaigns", operations: campaignOperations },
  { prefix: "/v1/webhooks", operations: webhookOperations },
  { prefix: "/v1/api-keys", operations: apiKeyOperations },
];
