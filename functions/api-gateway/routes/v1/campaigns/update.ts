import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import {
  CAMPAIGN_FIELD_CODES,
  campaignNotFound,
  campaignPath,
  campaignResponse,
  TAG,
  updateCampaignBody,
} from "./schema.ts";

export const updateCampaign = defineOperation({
  method: "patch",
  path: "/{id}",
  operationId: "updateCampaign",
  summary: "Update a campaign",
  description: "A partial update: fields left out keep their values. Completed campaigns cannot be changed.",
  tags: [TAG],
  permission: "campaigns:write",
  params: campaignPath,
  body: { schema: updateCampaignBody, what: "campaign", fieldCodes: CAMPAIGN_FIELD_CODES },
  success: { status: 200, description: "The updated campaign", schema: campaignResponse },
  errors: ["invalid_send_limit", "invalid_timezone", "campaign_not_found", "campaign_completed"],
  call: { rpc: "update_campaign", args: ({ params, body }) => ({ p_id: params.id, p_fields: body }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw campaignNotFound();
  if (result.outcome === "completed") {
    throw new ApiError("campaign_completed", "Completed campaigns cannot be changed", {
      details: { status: "completed" },
    });
  }
  return respond(c, { data: { campaign: result.campaign } });
});
