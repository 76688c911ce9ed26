import { pagingArgs, respondList } from "@shared/http/pagination.ts";
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
    args: ({ query }) => ({ p_status: query.status ?? null, ...pagingArgs(query) }),
  },
}, (c, result, { query }) => respondList(c, "campaigns", result.campaigns, query, result));
