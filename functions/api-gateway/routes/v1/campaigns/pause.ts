import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { campaignNotFound, campaignPath, TAG } from "./schema.ts";

export const pauseCampaign = defineOperation({
  method: "post",
  path: "/{id}/pause",
  operationId: "pauseCampaign",
  summary: "Pause an active campaign",
  description: "Fires `campaign.paused`.",
  tags: [TAG],
  permission: "campaigns:write",
  params: campaignPath,
  success: {
    status: 200,
    description: "The campaign is paused",
    schema: () =>
      z.strictObject({
        data: z.strictObject({
          campaign: z.strictObject({
            id: z.string().meta({ format: "uuid" }),
            status: z.literal("paused"),
            paused_at: z.string().meta({ format: "date-time" }),
          }),
        }),
      }),
  },
  errors: ["campaign_not_found", "campaign_not_active"],
  call: { rpc: "pause_campaign", args: ({ params }) => ({ p_id: params.id }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw campaignNotFound();
  if (result.outcome === "not_active") {
    throw new ApiError("campaign_not_active", `Campaign is ${result.status}; only active campaigns can be paused`, {
      details: { status: result.status },
    });
  }
  const { id, status, paused_at } = result.campaign;
  return respond(c, { data: { campaign: { id, status, paused_at } } });
});
