import { generateApiKey, hashApiKey } from "@shared/auth/api-key.ts";
import type { CreateApiKeyOutcome } from "@shared/auth/api-key-record.ts";
import { callerOf } from "../../../context.ts";
import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import { createApiKeyBody, createdApiKeyResponse, TAG } from "./schema.ts";

export const createApiKey = defineOperation({
  method: "post",
  path: "/",
  operationId: "createApiKey",
  summary: "Create an API key",
  description: "The response carries the key itself, shown only here.",
  tags: [TAG],
  permission: "admin:api_keys",
  body: { schema: createApiKeyBody, what: "API key" },
  success: { status: 201, description: "The new key", schema: createdApiKeyResponse },
  errors: ["duplicate_name"],
}, async (c, { body }) => {
  const { key, prefix } = generateApiKey();
  const result = await c.var.services.db.rpc<CreateApiKeyOutcome>("create_api_key", {
    p_workspace_id: callerOf(c).workspaceId,
    p_key_hash: await hashApiKey(key),
    p_prefix: prefix,
    p_fields: body,
  });
  if (result.outcome === "duplicate_name") {
    throw new ApiError("duplicate_name", "An active API key with this name already exists in this workspace", {
      details: { fields: { name: "Already used by an active key" } },
    });
  }
  return respond(c, { data: { api_key: { ...result.api_key, key } } }, 201);
});
