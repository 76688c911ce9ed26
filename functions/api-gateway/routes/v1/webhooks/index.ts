import { Hono } from "hono";
import type { GatewayEnv } from "../../../../_shared/http/context.ts";
import { registerCreateWebhook } from "./create.ts";
import { registerDeleteWebhook } from "./delete.ts";
import { registerGetWebhook } from "./get.ts";
import { registerListWebhooks } from "./list.ts";
import { registerWebhookLogs } from "./logs.ts";
import { registerRetryDelivery } from "./retry.ts";
import { registerTestWebhook } from "./test.ts";
import { registerUpdateWebhook } from "./update.ts";

export function webhooksRoutes(): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  for (const register of [
    registerListWebhooks, registerCreateWebhook, registerGetWebhook, registerUpdateWebhook, registerDeleteWebhook,
    registerWebhookLogs, registerTestWebhook, registerRetryDelivery,
  ]) register(app);
  return app;
}
