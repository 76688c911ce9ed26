import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respondList } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { listWebhooksQuery, type Webhook } from "./schema.ts";

type ListedWebhook = Webhook & { last_delivery_status: string | null; last_delivery_at: string | null };

export function registerListWebhooks(app: Hono<GatewayEnv>) {
  app.get("/", ...protect("webhooks:read"), async (c) => {
    const query = parseOrThrow(listWebhooksQuery, c.req.query(), "query parameters");
    const result = await c.var.services.db.rpc<{ webhooks: ListedWebhook[]; total: number }>("list_webhooks", {
      p_workspace_id: callerOf(c).workspaceId,
      p_page: query.page,
      p_per_page: query.per_page,
    });
    return respondList(c, "webhooks", result.webhooks, {
      page: query.page,
      per_page: query.per_page,
      total: result.total,
    });
  });
}
