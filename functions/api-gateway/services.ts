import type { GatewayServices } from "./context.ts";
import { FUNCTION_NAME } from "./app.ts";
import { databaseFromEnv, dispatcherKicker, type Env, jsonLogger, positiveInteger } from "../_shared/runtime/config.ts";
import { DEFAULT_UNATTRIBUTED_LINES_PER_SECOND } from "./http/request-log.ts";
import type { ResolveHost } from "../_shared/webhooks/url-policy.ts";

export interface Platform {
  resolveHost: ResolveHost;
  waitUntil: (promise: Promise<unknown>) => void;
}

export async function gatewayServicesFromEnv(env: Env, platform: Platform): Promise<GatewayServices> {
  return {
    db: await databaseFromEnv(env),
    log: jsonLogger,
    unattributedLogLines: positiveInteger(env, "LOG_UNATTRIBUTED_PER_SECOND", DEFAULT_UNATTRIBUTED_LINES_PER_SECOND),
    kickDispatcher: dispatcherKicker(env, platform.waitUntil),
    allowPrivateWebhookUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === "1",
    resolveHost: platform.resolveHost,
    // The platform sets SUPABASE_URL to the project's URL deployed, and `npm start` to its own origin.
    ...(env.SUPABASE_URL ? { publicUrl: `${env.SUPABASE_URL.replace(/\/+$/, "")}/functions/v1/${FUNCTION_NAME}` } : {}),
  };
}
