import { callerOf } from "../../../context.ts";
import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import { campaignIdParam, campaignNotFound, campaignPath, campaignResponse, TAG } from "./schema.ts";

export const getCampaign = defineOperation({
  method: "get",
  path: "/{id}",
  operationId: "getCampaign",
  summary: "Get a campaign",
  tags: [TAG],
  permission: "campaigns:read",
  params: campaignPath,
  success: { status: 200, description: "The campaign", schema: campaignResponse },
  errors: ["campaign_not_found"],
}, async (c) => {
  const result = await c.var.services.db.rpc("get_campaign", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: campaignIdParam(c),
  });
  if (result.outcome === "not_found") throw campaignNotFound();
  return respond(c, { data: { campaign: result.campaign } });
});
