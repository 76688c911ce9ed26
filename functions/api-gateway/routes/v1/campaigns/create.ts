import { callerOf } from "../../../context.ts";
import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import { CAMPAIGN_FIELD_CODES, campaignResponse, createCampaignBody, TAG } from "./schema.ts";

export const createCampaign = defineOperation({
  method: "post",
  path: "/",
  operationId: "createCampaign",
  summary: "Create a campaign",
  description: "The campaign starts as `draft`. Fires `campaign.created`.",
  tags: [TAG],
  permission: "campaigns:write",
  body: { schema: createCampaignBody, what: "campaign", fieldCodes: CAMPAIGN_FIELD_CODES },
  success: { status: 201, description: "The new campaign", schema: campaignResponse },
  errors: ["invalid_send_limit", "invalid_timezone"],
}, async (c, { body }) => {
  const result = await c.var.services.db.rpc("create_campaign", {
    p_workspace_id: callerOf(c).workspaceId,
    p_fields: body,
  });
  return respond(c, { data: { campaign: result.campaign } }, 201);
});
