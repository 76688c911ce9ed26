import { callerOf } from "../../../context.ts";
import { respondList } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
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
}, async (c, { query }) => {
  const result = await c.var.services.db.rpc("list_campaigns", {
    p_workspace_id: callerOf(c).workspaceId,
    p_status: query.status ?? null,
    p_page: query.page,
    p_per_page: query.per_page,
  });
  return respondList(c, "campaigns", result.campaigns, {
    page: query.page,
    per_page: query.per_page,
    total: result.total,
  });
});
