import type { Hono } from "hono";
import type { ListedApiKey } from "../../../../_shared/auth/api-key-record.ts";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respondList } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { listApiKeysQuery } from "./schema.ts";

export function registerListApiKeys(app: Hono<GatewayEnv>) {
  app.get("/", ...protect("admin:api_keys"), async (c) => {
    const query = parseOrThrow(listApiKeysQuery, c.req.query(), "query parameters");
    const result = await c.var.services.db.rpc<{ api_keys: ListedApiKey[]; total: number }>("list_api_keys", {
      p_workspace_id: callerOf(c).workspaceId,
      p_include_revoked: query.include_revoked,
      p_page: query.page,
      p_per_page: query.per_page,
    });
    return respondList(c, "api_keys", result.api_keys, {
      page: query.page,
      per_page: query.per_page,
      total: result.total,
    });
  });
}
