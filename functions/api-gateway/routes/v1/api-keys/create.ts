import type { Hono } from "hono";
import { generateApiKey, hashApiKey } from "../../../../_shared/auth/api-key.ts";
import { type CreateApiKeyOutcome, OPERATOR_ONLY_TIER } from "../../../../_shared/auth/api-key-record.ts";
import { invalidKey, protect } from "../../../../_shared/auth/authenticate.ts";
import { readJsonBody } from "../../../../_shared/http/body.ts";
import { callerOf, type GatewayEnv } from "../../../../_shared/http/context.ts";
import { ApiError } from "../../../../_shared/http/errors.ts";
import { respond } from "../../../../_shared/http/respond.ts";
import { parseOrThrow } from "../../../../_shared/http/validation.ts";
import { createApiKeyBody } from "./schema.ts";

export function registerCreateApiKey(app: Hono<GatewayEnv>) {
  app.post("/", ...protect("admin:api_keys"), async (c) => {
    const fields = parseOrThrow(createApiKeyBody, await readJsonBody(c), "API key");
    const { key, prefix } = generateApiKey();
    // create_api_key checks the bounds against the creating key under the workspace lock (api.md section 6).
    const result = await c.var.services.db.rpc<CreateApiKeyOutcome>("create_api_key", {
      p_workspace_id: callerOf(c).workspaceId,
      p_key_hash: await hashApiKey(key),
      p_prefix: prefix,
      p_fields: fields,
      p_creator_key_id: callerOf(c).keyId,
    });
    if (result.outcome === "duplicate_name") {
      throw new ApiError("duplicate_name", "An active API key with this name already exists in this workspace", {
        details: { fields: { name: "Already used by an active key" } },
      });
    }
    if (result.outcome === "creator_inactive") throw invalidKey();
    if (result.outcome === "exceeds_caller") {
      const tier = fields.rate_limit_tier === OPERATOR_ONLY_TIER
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
            rate_limit_tier: fields.rate_limit_tier,
            caller_rate_limit_tier: result.caller_rate_limit_tier,
          },
        },
      );
    }
    return respond(c, { data: { api_key: { ...result.api_key, key } } }, 201);
  });
}
