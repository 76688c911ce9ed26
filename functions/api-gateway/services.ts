import type { GatewayServices } from "../_shared/http/context.ts";
import { databaseFromEnv, dispatcherKicker, type Env, jsonLogger } from "../_shared/runtime/config.ts";

declare const EdgeRuntime: { waitUntil(promise: Promise<unknown>): void } | undefined;

function waitUntil(promise: Promise<unknown>): void {
  // Supabase's edge runtime keeps the isolate alive for it; plain Deno and Node just let it run.
  if (typeof EdgeRuntime !== "undefined") EdgeRuntime.waitUntil(promise);
}

export function gatewayServicesFromEnv(env: Env): GatewayServices {
  return {
    db: databaseFromEnv(env),
    log: jsonLogger,
    kickDispatcher: dispatcherKicker(env, waitUntil),
    allowPrivateWebhookUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === "1",
  };
}
