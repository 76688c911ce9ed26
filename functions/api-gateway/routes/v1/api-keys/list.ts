import { respondList } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { apiKeyListResponse, listApiKeysQuery, TAG } from "./schema.ts";

export const listApiKeys = defineOperation({
  method: "get",
  path: "/",
  operationId: "listApiKeys",
  summary: "List API keys",
  description: "Never the keys themselves. Revoked keys only with `include_revoked=true`.",
  tags: [TAG],
  permission: "admin:api_keys",
  query: listApiKeysQuery,
  success: { status: 200, description: "One page of keys", schema: apiKeyListResponse },
  call: {
    rpc: "list_api_keys",
    args: ({ query }) => ({ p_include_revoked: query.include_revoked, p_page: query.page, p_per_page: query.per_page }),
  },
}, (c, result, { query }) => {
  return respondList(c, "api_keys", result.api_keys, {
    page: query.page,
    per_page: query.per_page,
    total: result.total,
  });
});
