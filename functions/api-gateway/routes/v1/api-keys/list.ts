import { pagingArgs, respondList } from "@shared/http/pagination.ts";
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
    args: ({ query }) => ({ p_include_revoked: query.include_revoked, ...pagingArgs(query) }),
  },
}, (c, result, { query }) => respondList(c, "api_keys", result.api_keys, query, result));
