import { Hono } from "hono";
import type { GatewayEnv, GatewayServices } from "./context.ts";
import { notFoundHandler, onError } from "./http/error-handler.ts";
import { requestLog } from "./http/request-log.ts";
import { documentResponse, type ServedDocument, serveDocument } from "./http/document-response.ts";
import { refuseMalformedKey } from "./http/malformed-key.ts";
import { resourceApp } from "./http/operation.ts";
import { MOUNTED_OPERATIONS } from "./operations.ts";

export const FUNCTION_NAME = "api-gateway";

/** Every operation, mounted where the document says it is (paths relative to the function's base URL). */
function apiRoutes(): Hono<GatewayEnv> {
  const api = new Hono<GatewayEnv>();
  // Every path of the API proper, known route or not, once the request has its id and log line.
  api.use("/v1/*", refuseMalformedKey);
  for (const { prefix, operations } of MOUNTED_OPERATIONS) api.route(prefix, resourceApp(operations));
  // No key needed. Generated on the first request of an isolate, then served from memory. The module that
  // generates it is imported only then: the OpenAPI library it loads is not needed to serve any other request,
  // and every module an isolate keeps raises its peak memory (docs/performance.md). The specifier is a literal
  // so that the deploy bundles it.
  let document: Promise<ServedDocument> | undefined;
  api.get("/openapi.json", async (c) => {
    document ??= import("./openapi/document.ts")
      .then(({ openApiDocument }) => serveDocument(JSON.stringify(openApiDocument(c.var.services.publicUrl))))
      .catch((error) => {
        document = undefined;
        throw error;
      });
    return documentResponse(c, await document);
  });
  return api;
}

/**
 * The gateway as a Hono app. Deployed, the function sees `/api-gateway/...`; behind Supabase's local front
 * or a proxy that keeps the full path it sees `/functions/v1/api-gateway/...`. Both serve the same routes.
 */
export function createGatewayApp(services: GatewayServices): Hono<GatewayEnv> {
  const api = apiRoutes();
  // Not strict: "/v1/campaigns/" is the same route as "/v1/campaigns", as the 405 check below assumes.
  const app = new Hono<GatewayEnv>({ strict: false });
  app.use(async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use(requestLog(services.unattributedLogLines));
  app.route(`/${FUNCTION_NAME}`, api);
  app.route(`/functions/v1/${FUNCTION_NAME}`, api);
  app.onError(onError);
  app.notFound(notFoundHandler(app));
  return app;
}
