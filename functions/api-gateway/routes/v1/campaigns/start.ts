import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { ApiError } from "../../../../_shared/http/errors.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { type Campaign, campaignIdParam, campaignNotFound, type CampaignStatus } from "./schema.ts";

type Outcome =
  | { outcome: "ok"; campaign: Campaign; deliveries: number }
  | { outcome: "not_found" }
  | { outcome: "not_startable"; status: CampaignStatus };

export function registerStartCampaign(app: Hono<GatewayEnv>) {
  app.post("/:id/start", ...protect("campaigns:write"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("start_campaign", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: campaignIdParam(c),
    });
    if (result.outcome === "not_found") throw campaignNotFound();
    if (result.outcome === "not_startable") {
      throw new ApiError(
        "campaign_not_startable",
        `Campaign is ${result.status}; only draft or paused campaigns can be started`,
        { details: { status: result.status } },
      );
    }
    if (result.deliveries > 0) c.var.services.kickDispatcher();
    return respond(c, { data: { campaign_id: result.campaign.id, status: result.campaign.status, task_id: null } });
  });
}
