import { z } from "zod";
import { CAMPAIGN_STATUSES, campaignObject } from "@shared/campaigns/campaign.ts";
import { ApiError, type ErrorCode } from "@shared/http/errors.ts";
import { listMeta, listQuery } from "@shared/http/pagination.ts";
import { uuidPathParams } from "@gateway/http/params.ts";

export { type Campaign, type CampaignStatus } from "@shared/campaigns/campaign.ts";
export { createCampaignBody, updateCampaignBody } from "@shared/campaigns/campaign-fields.ts";

export const TAG = "Campaigns";

export function campaignNotFound(): ApiError {
  return new ApiError("campaign_not_found", "No campaign with this ID");
}

export const campaignPath = uuidPathParams(["id", "The campaign's id", campaignNotFound]);

/** Fields whose problems have a dedicated error code in the contract. */
export const CAMPAIGN_FIELD_CODES: Partial<Record<string, ErrorCode>> = {
  daily_send_limit: "invalid_send_limit",
  sending_timezone: "invalid_timezone",
};

export const listCampaignsQuery = listQuery("campaigns", {
  status: z.enum(CAMPAIGN_STATUSES, `Must be one of: ${CAMPAIGN_STATUSES.join(", ")}`).optional(),
});

/** `{"data": {"campaign": {...}}}` */
export const campaignResponse = () => z.strictObject({ data: z.strictObject({ campaign: campaignObject() }) });

export const campaignListResponse = () =>
  z.strictObject({
    data: z.strictObject({ campaigns: z.array(campaignObject()) }),
    meta: listMeta(),
  });
