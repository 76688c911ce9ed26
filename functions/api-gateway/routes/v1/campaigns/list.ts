import { respondList } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { campaignListResponse, listCampaignsQuery, TAG } from "./schema.ts";

export const listCampaigns = defineOperation({
  method: "get",
  path: "/",
  operationId: "listCampaigns",
  summary: "List campaigns",
  description: "Newest first.",
  tags: [TAG],
  permission: "campaigns:read",
  query: listCampaignsQuery,
  success: { status: 200, description: "One page of campaigns", schema: campaignListResponse },
  call: {
    rpc: "list_campaigns",
    args: ({ query }) => ({ p_status: query.status ?? null, p_page: query.page, p_per_page: query.per_page }),
  },
}, (c, result, { query }) => {
  return respondList(c, "campaigns", result.campaigns, {
    page: query.page,
    per_page: query.per_page,
    total: result.total,
  });
});
