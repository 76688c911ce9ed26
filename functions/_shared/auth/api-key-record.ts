// An API key as the database keeps it. The gateway's /v1/api-keys routes and the operator CLI both create keys
// through the create_api_key RPC, so they share the rules for its settable fields and the shape it returns.
import type { Permission } from "./permissions.ts";

export const RATE_LIMIT_TIERS = ["standard", "high", "unmetered"] as const;
export type RateLimitTier = (typeof RATE_LIMIT_TIERS)[number];

export const KEY_NAME_MAX_LENGTH = 120;
export const KEY_DESCRIPTION_MAX_LENGTH = 500;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A date, or a date and time with `Z` or an offset (never a local time); `new Date` alone also takes "1". */
export function isIsoTime(value: string): boolean {
  return ISO_8601.test(value) && !Number.isNaN(new Date(value).getTime());
}

/** What create_api_key stores: validated fields, `expires_at` already normalised to UTC. */
export interface ApiKeyFields {
  name: string;
  description?: string | null;
  permissions: Permission[];
  rate_limit_tier: RateLimitTier;
  expires_at?: string | null;
}

/** The key as the RPCs show it: never the key itself, never its hash. */
export interface ApiKey {
  id: string;
  prefix: string;
  name: string;
  description: string | null;
  permissions: Permission[];
  rate_limit_tier: RateLimitTier;
  expires_at: string | null;
  created_at: string;
}

export interface ListedApiKey extends ApiKey {
  last_used_at: string | null;
  revoked_at: string | null;
}

export type CreateApiKeyOutcome = { outcome: "ok"; api_key: ApiKey } | { outcome: "duplicate_name" };
