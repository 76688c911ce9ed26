import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { GatewayEnv, GatewayServices } from "./context.ts";
import { notFoundHandler, onError } from "./http/error-handler.ts";
import { ApiError } from "@shared/http/errors.ts";
import { requestLog } from "./http/request-log.ts";
import { JSON_CONTENT_TYPE } from "@shared/http/respond.ts";
import { registerSharedComponents } from "./openapi/components.ts";
import { openApiDocument, registerWebhookEvents } from "./openapi/document.ts";
import { health } from "./routes/health.ts";
import { apiKeysRoutes } from "./routes/v1/api-keys/index.ts";
import { campaignsRoutes } from "./routes/v1/campaigns/index.ts";
import { webhooksRoutes } from "./routes/v1/webhooks/index.ts";
import { wakingDispatcher } from "./wake-dispatcher.ts";

export const FUNCTION_NAME = "api-gateway";
const MAX_BODY_BYTES = 1024 * 1024;

/** Every operation, mounted where the document says it is (paths relative to the function's base URL). */
export function createApiRoutes(): OpenAPIHono<GatewayEnv> {
  const api = new OpenAPIHono<GatewayEnv>();
  registerSharedComponents(api.openAPIRegistry);
  health.register(api);
  api.route("/v1/campaigns", campaignsRoutes());
  api.route("/v1/webhooks", webhooksRoutes());
  api.route("/v1/api-keys", apiKeysRoutes());
  registerWebhookEvents(api);
  // No key needed. Generated on the first request of an isolate, then served from memory.
  let document: string | undefined;
  api.get("/openapi.json", (c) => {
    document ??= JSON.stringify(openApiDocument(api));
    return c.body(document, 200, { "Content-Type": JSON_CONTENT_TYPE });
  });
  return api;
}

/**
 * The gateway as a Hono app. Deployed, the function sees `/api-gateway/...`; behind Supabase's local front
 * or a proxy that keeps the full path it sees `/functions/v1/api-gateway/...`. Both serve the same routes.
 */
export function createGatewayApp(services: GatewayServices): Hono<GatewayEnv> {
  const api = createApiRoutes();
  const scoped: GatewayServices = { ...services, db: wakingDispatcher(services.db, services.kickDispatcher) };
  // Not strict: "/v1/campaigns/" is the same route as "/v1/campaigns", as the 405 check below assumes.
  const app = new Hono<GatewayEnv>({ strict: false });
  app.use(async (c, next) => {
    c.set("services", scoped);
    await next();
  });
  app.use(requestLog);
  app.use(bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError("payload_too_large", "Request body exceeds the 1 MiB limit");
    },
  }));
  app.route(`/${FUNCTION_NAME}`, api);
  app.route(`/functions/v1/${FUNCTION_NAME}`, api);
  app.onError(onError);
  app.notFound(notFoundHandler(app));
  return app;
}
