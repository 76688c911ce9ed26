import type { GatewayServices } from "./context.ts";
import { databaseFromEnv, dispatcherKicker, type Env, jsonLogger } from "../_shared/runtime/config.ts";
import type { ResolveHost } from "../_shared/webhooks/url-policy.ts";

export interface Platform {
  resolveHost: ResolveHost;
  waitUntil: (promise: Promise<unknown>) => void;
}

export async function gatewayServicesFromEnv(env: Env, platform: Platform): Promise<GatewayServices> {
  return {
    db: await databaseFromEnv(env),
    log: jsonLogger,
    kickDispatcher: dispatcherKicker(env, platform.waitUntil),
    allowPrivateWebhookUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === "1",
    resolveHost: platform.resolveHost,
  };
}
