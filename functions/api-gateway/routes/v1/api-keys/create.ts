import type { Hono } from "hono";
import { generateApiKey, hashApiKey } from "../../../../_shared/auth/api-key.ts";
import type { CreateApiKeyOutcome } from "../../../../_shared/auth/api-key-record.ts";
import { protect } from "../../../../_shared/auth/authenticate.ts";
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
    const result = await c.var.services.db.rpc<CreateApiKeyOutcome>("create_api_key", {
      p_workspace_id: callerOf(c).workspaceId,
      p_key_hash: await hashApiKey(key),
      p_prefix: prefix,
      p_fields: fields,
    });
    if (result.outcome === "duplicate_name") {
      throw new ApiError("duplicate_name", "An active API key with this name already exists in this workspace", {
        details: { fields: { name: "Already used by an active key" } },
      });
    }
    return respond(c, { data: { api_key: { ...result.api_key, key } } }, 201);
  });
}
