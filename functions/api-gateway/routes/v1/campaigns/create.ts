import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
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
  call: { rpc: "create_campaign", args: ({ body }) => ({ p_fields: body }) },
}, (c, result) => respond(c, { data: { campaign: result.campaign } }, 201));
