import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respondList } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { type Campaign, listCampaignsQuery } from "./schema.ts";

export function registerListCampaigns(app: Hono<GatewayEnv>) {
  app.get("/", ...protect("campaigns:read"), async (c) => {
    const query = parseOrThrow(listCampaignsQuery, c.req.query(), "query parameters");
    const result = await c.var.services.db.rpc<{ campaigns: Campaign[]; total: number }>("list_campaigns", {
      p_workspace_id: callerOf(c).workspaceId,
      p_status: query.status ?? null,
      p_page: query.page,
      p_per_page: query.per_page,
    });
    return respondList(c, "campaigns", result.campaigns, {
      page: query.page,
      per_page: query.per_page,
      total: result.total,
    });
  });
}
