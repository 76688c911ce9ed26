// An API key as the database keeps it. The gateway's /v1/api-keys routes and the operator CLI both create keys
// through the create_api_key RPC, so they share the rules for its settable fields and the shape it returns.
import { z } from "zod";
import { documentSchema } from "../http/document-schema.ts";
import { isIsoTime, ISO_TIME_PROBLEM } from "../http/iso-time.ts";
import { nameList } from "../http/name-list.ts";
import { type Permission, PERMISSIONS } from "./permissions.ts";

/**
 * From least to most. A key made through the API gets at most its creator's tier, and never the last one
 * (`unmetered`), which only operators grant. The SQL function rate_limit_tier_rank mirrors this order.
 */
export const RATE_LIMIT_TIERS = ["standard", "high", "unmetered"] as const;
export type RateLimitTier = (typeof RATE_LIMIT_TIERS)[number];
export const OPERATOR_ONLY_TIER: RateLimitTier = RATE_LIMIT_TIERS[RATE_LIMIT_TIERS.length - 1];

export const KEY_NAME_MAX_LENGTH = 120;
export const KEY_DESCRIPTION_MAX_LENGTH = 500;

const NAME_PROBLEM = `Must be 1 to ${KEY_NAME_MAX_LENGTH} characters`;

// Normalised to UTC here, so the RPC stores exactly the instant that was checked to be in the future.
const expiresAt = z.string(ISO_TIME_PROBLEM).transform((value, ctx) => {
  if (!isIsoTime(value)) {
    ctx.addIssue({ code: "custom", message: ISO_TIME_PROBLEM });
    return z.NEVER;
  }
  const at = new Date(value);
  if (at.getTime() <= Date.now()) {
    ctx.addIssue({ code: "custom", message: "Must be in the future" });
    return z.NEVER;
  }
  return at.toISOString();
}).meta({ format: "date-time" });

/** The settable fields of a new key, as `POST /v1/api-keys` and the operators' CLI both take them. */
export const apiKeyFieldsSchema = z.strictObject({
  name: z.string(NAME_PROBLEM).min(1, NAME_PROBLEM).max(KEY_NAME_MAX_LENGTH, NAME_PROBLEM),
  description: z.string().max(KEY_DESCRIPTION_MAX_LENGTH, `Must be at most ${KEY_DESCRIPTION_MAX_LENGTH} characters`)
    .nullable().optional(),
  permissions: nameList(PERMISSIONS, "permissions"),
  // Optional with the default filled in here rather than `.default()`: a body field with a `default` in the
  // document is a required one to generated clients (openapi-typescript), which would have to send it.
  rate_limit_tier: z.enum(RATE_LIMIT_TIERS, `Must be one of: ${RATE_LIMIT_TIERS.join(", ")}`).optional()
    .transform((tier) => tier ?? RATE_LIMIT_TIERS[0]).meta({ description: `Default \`${RATE_LIMIT_TIERS[0]}\`` }),
  expires_at: expiresAt.nullable().optional(),
}, { error: "Expected a JSON object" }).meta({ id: "ApiKeyCreate" });

/** What create_api_key stores: validated fields, `expires_at` already normalised to UTC. */
export type ApiKeyFields = z.output<typeof apiKeyFieldsSchema>;

const nullableTimestamp = () => z.string().meta({ format: "date-time" }).nullable();

/** The key as create_api_key shows it: never the key itself, never its hash. */
export const apiKeyObject = documentSchema(() =>
  z.strictObject({
    id: z.string().meta({ format: "uuid" }),
    prefix: z.string().meta({ description: "The first characters of the key, safe to show and log" }),
    name: z.string().max(KEY_NAME_MAX_LENGTH),
    description: z.string().max(KEY_DESCRIPTION_MAX_LENGTH).nullable(),
    permissions: z.array(z.enum(PERMISSIONS)),
    rate_limit_tier: z.enum(RATE_LIMIT_TIERS),
    expires_at: nullableTimestamp(),
    created_at: z.string().meta({ format: "date-time" }),
  }).meta({ id: "ApiKey" })
);

export type ApiKey = z.infer<ReturnType<typeof apiKeyObject>>;

/** The key as listed (the `api_key_json` SQL function). */
export const listedApiKeyObject = documentSchema(() =>
  apiKeyObject().extend({
    last_used_at: nullableTimestamp(),
    revoked_at: nullableTimestamp(),
  }).meta({ id: "ListedApiKey" })
);

export type ListedApiKey = z.infer<ReturnType<typeof listedApiKeyObject>>;

/**
 * A key (being made, or to be revoked) exceeds the calling key (the SQL function api_key_excess): the permissions
 * it holds that the caller lacks, a tier above the caller's (or operator-only, when made), a later expiry.
 */
export interface ExceedsCaller {
  outcome: "exceeds_caller";
  permissions: Permission[];
  tier_exceeds: boolean;
  expires_exceeds: boolean;
  /** The key's own tier and expiry. */
  rate_limit_tier: RateLimitTier;
  expires_at: string | null;
  caller_rate_limit_tier: RateLimitTier;
  caller_expires_at: string | null;
}

export type CreateApiKeyOutcome =
  | { outcome: "ok"; api_key: ApiKey }
  | { outcome: "duplicate_name" }
  | ExceedsCaller
  /** The creating key was revoked or expired after it authenticated the request. */
  | { outcome: "creator_inactive" };
