import { Hono } from "hono";
import type { GatewayEnv } from "../../../../_shared/http/context.ts";
import { registerCreateApiKey } from "./create.ts";
import { registerDeleteApiKey } from "./delete.ts";
import { registerListApiKeys } from "./list.ts";

export function apiKeysRoutes(): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  for (const register of [registerListApiKeys, registerCreateApiKey, registerDeleteApiKey]) register(app);
  return app;
}
