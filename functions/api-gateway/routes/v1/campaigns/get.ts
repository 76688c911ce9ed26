import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { campaignNotFound, campaignPath, campaignResponse, TAG } from "./schema.ts";

export const getCampaign = defineOperation({
  method: "get",
  path: "/{id}",
  operationId: "getCampaign",
  summary: "Get a campaign",
  description: "Another workspace's campaign, or an id that is not a UUID, is `404 campaign_not_found`.",
  tags: [TAG],
  permission: "campaigns:read",
  params: campaignPath,
  success: { status: 200, description: "The campaign", schema: campaignResponse },
  errors: ["campaign_not_found"],
  call: { rpc: "get_campaign", args: ({ params }) => ({ p_id: params.id }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw campaignNotFound();
  return respond(c, { data: { campaign: result.campaign } });
});
