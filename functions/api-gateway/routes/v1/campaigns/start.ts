import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { campaignNotFound, campaignPath, TAG } from "./schema.ts";

export const startCampaign = defineOperation({
  method: "post",
  path: "/{id}/start",
  operationId: "startCampaign",
  summary: "Start a draft or paused campaign",
  description: "Fires `campaign.started`.",
  tags: [TAG],
  permission: "campaigns:write",
  params: campaignPath,
  success: {
    status: 200,
    description: "The campaign is active",
    schema: () =>
      z.strictObject({
        data: z.strictObject({
          campaign_id: z.string().meta({ format: "uuid" }),
          status: z.literal("active"),
          task_id: z.null().meta({ description: "Reserved for the sending system's task" }),
        }),
      }),
  },
  errors: ["campaign_not_found", "campaign_not_startable"],
  call: { rpc: "start_campaign", args: ({ params }) => ({ p_id: params.id }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw campaignNotFound();
  if (result.outcome === "not_startable") {
    throw new ApiError(
      "campaign_not_startable",
      `Campaign is ${result.status}; only draft or paused campaigns can be started`,
      { details: { status: result.status } },
    );
  }
  return respond(c, { data: { campaign_id: result.campaign.id, status: result.campaign.status, task_id: null } });
});
