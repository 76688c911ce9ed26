import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { ApiError } from "../../../../_shared/http/errors.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { campaignIdParam, campaignNotFound, type CampaignStatus } from "./schema.ts";

type Outcome =
  | { outcome: "ok"; id: string; deliveries: number }
  | { outcome: "not_found" }
  | { outcome: "not_draft"; status: CampaignStatus };

const HOW_TO_DELETE: Partial<Record<CampaignStatus, string>> = {
  active: "Pause it to stop sending; it keeps its metrics and cannot be deleted.",
  pending_approval: "Pause it to stop sending; it keeps its metrics and cannot be deleted.",
  paused: "Paused campaigns keep their metrics and cannot be deleted.",
  completed: "Completed campaigns keep their metrics and cannot be deleted.",
};

export function registerDeleteCampaign(app: Hono<GatewayEnv>) {
  app.delete("/:id", ...protect("campaigns:write"), async (c) => {
    const result = await c.var.services.db.rpc<Outcome>("delete_campaign", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: campaignIdParam(c),
    });
    if (result.outcome === "not_found") throw campaignNotFound();
    if (result.outcome === "not_draft") {
      throw new ApiError(
        "campaign_not_draft",
        `Only draft campaigns can be deleted; this campaign is ${result.status}. ${HOW_TO_DELETE[result.status] ?? ""}`
          .trim(),
        { details: { status: result.status } },
      );
    }
    if (result.deliveries > 0) c.var.services.kickDispatcher();
    return respond(c, { data: { deleted: true, id: result.id } });
  });
}
