import { z } from "zod";
import {
  isIsoTime,
  KEY_DESCRIPTION_MAX_LENGTH,
  KEY_NAME_MAX_LENGTH,
  RATE_LIMIT_TIERS,
} from "../../../../_shared/auth/api-key-record.ts";
import { PERMISSIONS } from "../../../../_shared/auth/permissions.ts";
import type { GatewayContext } from "../../../../_shared/http/context.ts";
import { ApiError } from "../../../../_shared/http/errors.ts";
import { nameList } from "../../../../_shared/http/name-list.ts";
import { pagination } from "../../../../_shared/http/pagination.ts";
import { uuidParam } from "../../../../_shared/http/params.ts";

export function apiKeyNotFound(): ApiError {
  return new ApiError("api_key_not_found", "No API key with this ID");
}

export const apiKeyIdParam = (c: GatewayContext): string => uuidParam(c, "id", apiKeyNotFound);

const NAME_PROBLEM = `Must be 1 to ${KEY_NAME_MAX_LENGTH} characters`;
const EXPIRY_FORMAT_PROBLEM = "Must be an ISO 8601 time with a zone, e.g. 2027-01-01T00:00:00Z";

// Normalised to UTC here, so the RPC stores exactly the instant that was checked to be in the future.
const expiresAt = z.string(EXPIRY_FORMAT_PROBLEM).transform((value, ctx) => {
  if (!isIsoTime(value)) {
    ctx.addIssue({ code: "custom", message: EXPIRY_FORMAT_PROBLEM });
    return z.NEVER;
  }
  const at = new Date(value);
  if (at.getTime() <= Date.now()) {
    ctx.addIssue({ code: "custom", message: "Must be in the future" });
    return z.NEVER;
  }
  return at.toISOString();
});

export const createApiKeyBody = z.strictObject({
  name: z.string(NAME_PROBLEM).min(1, NAME_PROBLEM).max(KEY_NAME_MAX_LENGTH, NAME_PROBLEM),
  description: z.string().max(KEY_DESCRIPTION_MAX_LENGTH, `Must be at most ${KEY_DESCRIPTION_MAX_LENGTH} characters`)
    .nullable().optional(),
  permissions: nameList(PERMISSIONS, "permissions"),
  rate_limit_tier: z.enum(RATE_LIMIT_TIERS, `Must be one of: ${RATE_LIMIT_TIERS.join(", ")}`).default("standard"),
  expires_at: expiresAt.nullable().optional(),
}, { error: "Expected a JSON object" });

export const listApiKeysQuery = z.strictObject({
  include_revoked: z.enum(["true", "false"], "Must be true or false").transform((value) => value === "true")
    .default(false),
  ...pagination,
});
