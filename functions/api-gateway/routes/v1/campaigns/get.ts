import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { type Campaign, campaignIdParam, campaignNotFound } from "./schema.ts";

type Outcome = { outcome: "ok"; campaign: Campaign } | { outcome: "not_found" };

export function registerGetCampaign(app: Hono<GatewayEnv>) {
  app.get("/:id", ...protect("campaigns:read"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("get_campaign", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: campaignIdParam(c),
    });
    if (result.outcome === "not_found") throw campaignNotFound();
    return respond(c, { data: { campaign: result.campaign } });
  });
}
