import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { ApiError } from "../../../../_shared/http/errors.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { type Campaign, campaignIdParam, campaignNotFound, type CampaignStatus } from "./schema.ts";

type Outcome =
  | { outcome: "ok"; campaign: Campaign; deliveries: number }
  | { outcome: "not_found" }
  | { outcome: "not_active"; status: CampaignStatus };

export function registerPauseCampaign(app: Hono<GatewayEnv>) {
  app.post("/:id/pause", ...protect("campaigns:write"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("pause_campaign", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: campaignIdParam(c),
    });
    if (result.outcome === "not_found") throw campaignNotFound();
    if (result.outcome === "not_active") {
      throw new ApiError("campaign_not_active", `Campaign is ${result.status}; only active campaigns can be paused`, {
        details: { status: result.status },
      });
    }
    if (result.deliveries > 0) c.var.services.kickDispatcher();
    const { id, status, paused_at } = result.campaign;
    return respond(c, { data: { campaign: { id, status, paused_at } } });
  });
}
