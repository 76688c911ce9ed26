import { generateApiKey, hashApiKey } from "@shared/auth/api-key.ts";
import { ApiError } from "@shared/http/errors.ts";
import { respond } from "@shared/http/respond.ts";
import { invalidKey } from "@gateway/http/gateway-call.ts";
import { replayedSecret, sealSecret } from "@gateway/http/idempotency.ts";
import { defineOperation } from "@gateway/http/operation.ts";
import { createApiKeyBody, createdApiKeyResponse, keyExceedsCaller, TAG } from "./schema.ts";

export const createApiKey = defineOperation({
  method: "post",
  path: "/",
  operationId: "createApiKey",
  summary: "Create an API key",
  description: "The response carries the key itself, shown only here. The new key's permissions must be a subset of " +
    "the calling key's, its rate-limit tier no higher than the caller's and its `expires_at` no later than the " +
    "caller's (a caller that never expires may give either); `unmetered` keys are made only by operators (admin CLI).",
  tags: [TAG],
  permission: "admin:api_keys",
  body: { schema: createApiKeyBody, what: "API key" },
  success: { status: 201, description: "The new key", schema: createdApiKeyResponse },
  errors: ["duplicate_name", "key_exceeds_caller"],
  prepare: async (c) => {
    const { key, prefix } = generateApiKey();
    // Never stored in clear: a replay of this request decrypts it with the client's Idempotency-Key.
    await sealSecret(c, key);
    return { key, prefix, hash: hashApiKey(key) };
  },
  // create_api_key checks the bounds against the creating key under the workspace lock (docs/api-behaviour.md).
  call: {
    rpc: "create_api_key",
    args: ({ body, prepared }) => ({ p_key_hash: prepared.hash, p_prefix: prepared.prefix, p_fields: body }),
  },
}, async (c, result, { prepared: { key } }) => {
  if (result.outcome === "duplicate_name") {
    throw new ApiError("duplicate_name", "An active API key with this name already exists in this workspace", {
      details: { fields: { name: "Already used by an active key" } },
    });
  }
  if (result.outcome === "creator_inactive") throw invalidKey();
  if (result.outcome === "exceeds_caller") throw keyExceedsCaller(result, "create");
  return respond(c, { data: { api_key: { ...result.api_key, key: (await replayedSecret(c)) ?? key } } }, 201);
});
