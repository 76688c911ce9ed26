import { generateApiKey, hashApiKey } from "@shared/auth/api-key.ts";
import { OPERATOR_ONLY_TIER } from "@shared/auth/api-key-record.ts";
import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { callerOf } from "../../../context.ts";
import { invalidKey } from "../../../http/authenticate.ts";
import { replayedSecret, sealSecret } from "../../../http/idempotency.ts";
import { defineOperation } from "../../../openapi/operation.ts";
import { createApiKeyBody, createdApiKeyResponse, TAG } from "./schema.ts";

export const createApiKey = defineOperation({
  method: "post",
  path: "/",
  operationId: "createApiKey",
  summary: "Create an API key",
  description: "The response carries the key itself, shown only here. The new key's permissions must be a subset of " +
    "the calling key's and its rate-limit tier no higher than the caller's; `unmetered` keys are made only by " +
    "operators (admin CLI).",
  tags: [TAG],
  permission: "admin:api_keys",
  body: { schema: createApiKeyBody, what: "API key" },
  success: { status: 201, description: "The new key", schema: createdApiKeyResponse },
  errors: ["duplicate_name", "key_exceeds_caller"],
}, async (c, { body }) => {
  const { key, prefix } = generateApiKey();
  // Never stored in clear: a replay of this request decrypts it with the client's Idempotency-Key.
  await sealSecret(c, key);
  // create_api_key checks the bounds against the creating key under the workspace lock (docs/api-behaviour.md).
  const result = await c.var.services.db.rpc("create_api_key", {
    p_workspace_id: callerOf(c).workspaceId,
    p_key_hash: await hashApiKey(key),
    p_prefix: prefix,
    p_fields: body,
    p_creator_key_id: callerOf(c).keyId,
  });
  if (result.outcome === "duplicate_name") {
    throw new ApiError("duplicate_name", "An active API key with this name already exists in this workspace", {
      details: { fields: { name: "Already used by an active key" } },
    });
  }
  if (result.outcome === "creator_inactive") throw invalidKey();
  if (result.outcome === "exceeds_caller") {
    const tier = body.rate_limit_tier === OPERATOR_ONLY_TIER
      ? `the ${OPERATOR_ONLY_TIER} tier, which only operators grant (admin CLI)`
      : `a tier above its own (${result.caller_rate_limit_tier})`;
    const problems = [
      ...(result.permissions.length ? [`permissions it does not hold (${result.permissions.join(", ")})`] : []),
      ...(result.tier_exceeds ? [tier] : []),
    ];
    throw new ApiError(
      "key_exceeds_caller",
      `A key cannot create a key that exceeds it; this request asks for ${problems.join(" and ")}`,
      {
        details: {
          permissions: result.permissions,
          rate_limit_tier: body.rate_limit_tier,
          caller_rate_limit_tier: result.caller_rate_limit_tier,
        },
      },
    );
  }
  return respond(c, { data: { api_key: { ...result.api_key, key: (await replayedSecret(c)) ?? key } } }, 201);
});
