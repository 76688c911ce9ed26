import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { z } from "zod";
import { defineOperation } from "@gateway/http/operation.ts";
import { campaignNotFound, campaignPath, type CampaignStatus, TAG } from "./schema.ts";

const HOW_TO_DELETE: Partial<Record<CampaignStatus, string>> = {
  active: "Pause it to stop sending; it keeps its metrics and cannot be deleted.",
  pending_approval: "Pause it to stop sending; it keeps its metrics and cannot be deleted.",
  paused: "Paused campaigns keep their metrics and cannot be deleted.",
  completed: "Completed campaigns keep their metrics and cannot be deleted.",
};

export const deleteCampaign = defineOperation({
  method: "delete",
  path: "/{id}",
  operationId: "deleteCampaign",
  summary: "Delete a draft campaign",
  description: "Only drafts can be deleted. Fires `campaign.deleted` with the campaign as it was just before.",
  tags: [TAG],
  permission: "campaigns:write",
  params: campaignPath,
  success: {
    status: 200,
    description: "The campaign is gone",
    schema: () =>
      z.strictObject({
        data: z.strictObject({ deleted: z.literal(true), id: z.string().meta({ format: "uuid" }) }),
      }),
  },
  errors: ["campaign_not_found", "campaign_not_draft"],
  call: { rpc: "delete_campaign", args: ({ params }) => ({ p_id: params.id }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw campaignNotFound();
  if (result.outcome === "not_draft") {
    throw new ApiError(
      "campaign_not_draft",
      `Only draft campaigns can be deleted; this campaign is ${result.status}. ${HOW_TO_DELETE[result.status] ?? ""}`
        .trim(),
      { details: { status: result.status } },
    );
  }
  return respond(c, { data: { deleted: true, id: result.id } });
});
