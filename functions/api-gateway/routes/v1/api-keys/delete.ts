import type { Permission } from "@shared/auth/permissions.ts";
import { callerOf } from "../../../context.ts";
import { ApiError } from "@shared/http/errors.ts";
import { JSON_CONTENT_TYPE } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import { apiKeyIdParam, apiKeyNotFound, apiKeyPath, TAG } from "./schema.ts";

/** At least one active key of a workspace must keep this, or nobody could manage its keys through the API. */
const ADMIN_PERMISSION: Permission = "admin:api_keys";

export const revokeApiKey = defineOperation({
  method: "delete",
  path: "/{id}",
  operationId: "revokeApiKey",
  summary: "Revoke an API key",
  description: "The key stops working at once.",
  tags: [TAG],
  permission: ADMIN_PERMISSION,
  params: apiKeyPath,
  success: { status: 204, description: "Revoked; no body" },
  errors: ["api_key_not_found", "last_admin_key"],
}, async (c) => {
  const result = await c.var.services.db.rpc("revoke_api_key", {
    p_workspace_id: callerOf(c).workspaceId,
    p_id: apiKeyIdParam(c),
    p_admin_permission: ADMIN_PERMISSION,
  });
  if (result.outcome === "not_found") throw apiKeyNotFound();
  if (result.outcome === "last_admin_key") {
    throw new ApiError(
      "last_admin_key",
      `Revoking this key would leave the workspace without an active key holding ${ADMIN_PERMISSION} that ` +
        "expires no sooner than this one. Create another such key first.",
    );
  }
  // No body, but the content type every response carries (docs/api-behaviour.md); left out, some servers (Node's
  // adapter among them) would label the empty body text/plain.
  return c.body(null, 204, { "Content-Type": JSON_CONTENT_TYPE });
});
