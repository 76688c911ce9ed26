import { z } from "zod";
import {
  apiKeyFieldsSchema,
  apiKeyObject,
  type ExceedsCaller,
  listedApiKeyObject,
  OPERATOR_ONLY_TIER,
} from "@shared/auth/api-key-record.ts";
import { documentSchema } from "@shared/http/document-schema.ts";
import { ApiError } from "@shared/http/errors.ts";
import { listMeta, listQuery, queryBoolean } from "@shared/http/pagination.ts";
import { uuidPathParams } from "@gateway/http/params.ts";

export const TAG = "API keys";

export function apiKeyNotFound(): ApiError {
  return new ApiError("api_key_not_found", "No API key with this ID");
}

/**
 * The 403 for a key that exceeds its caller (api.md section 6): a key may create, and revoke, only keys that
 * exceed it in nothing. The message names each bound the key passes; `details` carries both sides of them.
 */
export function keyExceedsCaller(excess: ExceedsCaller, action: "create" | "revoke"): ApiError {
  const own = (when: string | null) => (when === null ? "never expires" : `expires at ${when}`);
  const problems = [
    ...(excess.permissions.length ? [`permissions the caller does not hold (${excess.permissions.join(", ")})`] : []),
    ...(excess.tier_exceeds
      ? [
        action === "create" && excess.rate_limit_tier === OPERATOR_ONLY_TIER
          ? `the ${OPERATOR_ONLY_TIER} tier, which only operators grant (admin CLI)`
          : `a tier above the caller's (${excess.rate_limit_tier} > ${excess.caller_rate_limit_tier})`,
      ]
      : []),
    ...(excess.expires_exceeds
      ? [
        `a lifetime beyond the caller's (the key ${own(excess.expires_at)}, the caller ${
          own(excess.caller_expires_at)
        })`,
      ]
      : []),
  ];
  const lead = action === "create"
    ? "A key cannot create a key that exceeds it; this request asks for"
    : "A key can revoke only keys it could have created; this key has";
  return new ApiError("key_exceeds_caller", `${lead} ${problems.join(" and ")}`, {
    details: {
      permissions: excess.permissions,
      rate_limit_tier: excess.rate_limit_tier,
      caller_rate_limit_tier: excess.caller_rate_limit_tier,
      ...(excess.expires_exceeds ? { expires_at: excess.expires_at, caller_expires_at: excess.caller_expires_at } : {}),
    },
  });
}

export const apiKeyPath = uuidPathParams(["id", "The API key's id", apiKeyNotFound]);

export const createApiKeyBody = apiKeyFieldsSchema;

export const listApiKeysQuery = listQuery("api_keys", {
  include_revoked: queryBoolean().default(false).meta({ description: "Also list revoked keys" }),
});

export const createdApiKeyResponse = documentSchema(() =>
  z.strictObject({
    data: z.strictObject({
      api_key: apiKeyObject().extend({
        key: z.string().meta({ description: "The key itself: shown only here, store it now" }),
      }).meta({ id: "CreatedApiKey" }),
    }),
  })
);

export const apiKeyListResponse = () =>
  z.strictObject({
    data: z.strictObject({ api_keys: z.array(listedApiKeyObject()) }),
    meta: listMeta(),
  });
