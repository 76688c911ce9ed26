import type { Hono } from "hono";
import { protect } from "../../../../_shared/auth/authenticate.ts";
import { readJsonBody } from "../../../../_shared/http/body.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { ApiError } from "../../../../_shared/http/errors.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { type Campaign, CAMPAIGN_FIELD_CODES, campaignIdParam, campaignNotFound, updateCampaignBody } from "./schema.ts";

type Outcome = { outcome: "ok"; campaign: Campaign } | { outcome: "not_found" } | { outcome: "completed" };

export function registerUpdateCampaign(app: Hono<GatewayEnv>) {
  app.patch("/:id", ...protect("campaigns:write"), async (c) => {
    // Input validation (400) comes before the resource (404), also for an id that cannot name a campaign.
    const fields = parseOrThrow(updateCampaignBody, await readJsonBody(c), "campaign", CAMPAIGN_FIELD_CODES);
    const id = campaignIdParam(c);
    const result = await c.var.services.db.rpc<Outcome>("update_campaign", {
      p_workspace_id: callerOf(c).workspaceId,
      p_id: id,
      p_fields: fields,
    });
    if (result.outcome === "not_found") throw campaignNotFound();
    if (result.outcome === "completed") {
      throw new ApiError("campaign_completed", "Completed campaigns cannot be changed", {
        details: { status: "completed" },
      });
    }
    return respond(c, { data: { campaign: result.campaign } });
  });
}
