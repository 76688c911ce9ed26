import type { Permission } from "@shared/auth/permissions.ts";
import { ApiError } from "@shared/http/errors.ts";
import { answer, JSON_CONTENT_TYPE } from "@shared/http/respond.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { invalidKey } from "@gateway/http/gateway-call.ts";
import { apiKeyNotFound, apiKeyPath, keyExceedsCaller, TAG } from "./schema.ts";

/** At least one active key of a workspace must keep this, or nobody could manage its keys through the API. */
const ADMIN_PERMISSION: Permission = "admin:api_keys";

export const revokeApiKey = defineOperation({
  method: "delete",
  path: "/{id}",
  operationId: "revokeApiKey",
  summary: "Revoke an API key",
  description: "The key stops working at once. Only a key the caller could have created: its permissions within " +
    "the caller's, its tier no higher and its `expires_at` no later (a key may always revoke itself).",
  tags: [TAG],
  permission: ADMIN_PERMISSION,
  params: apiKeyPath,
  success: { status: 204, description: "Revoked; no body" },
  errors: ["api_key_not_found", "key_exceeds_caller", "last_admin_key"],
  call: { rpc: "revoke_api_key", args: ({ params }) => ({ p_id: params.id, p_admin_permission: ADMIN_PERMISSION }) },
}, (c, result) => {
  if (result.outcome === "not_found") throw apiKeyNotFound();
  if (result.outcome === "creator_inactive") throw invalidKey();
  if (result.outcome === "exceeds_caller") throw keyExceedsCaller(result, "revoke");
  if (result.outcome === "last_admin_key") {
    throw new ApiError(
      "last_admin_key",
      `Revoking this key would leave the workspace without an active key holding ${ADMIN_PERMISSION} that ` +
        "expires no sooner than this one. Create another such key first.",
    );
  }
  // No body, but the content type every response carries (docs/api-behaviour.md); left out, some servers (Node's
  // adapter among them) would label the empty body text/plain.
  return answer(c, null, 204, { "Content-Type": JSON_CONTENT_TYPE });
});
