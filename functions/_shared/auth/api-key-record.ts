// An API key as the database keeps it. The gateway's /v1/api-keys routes and the operator CLI both create keys
// through the create_api_key RPC, so they share the rules for its settable fields and the shape it returns.
import type { Permission } from "./permissions.ts";

/**
 * From least to most. A key made through the API gets at most its creator's tier, and never the last one
 * (`unmetered`), which only operators grant. The SQL function rate_limit_tier_rank mirrors this order.
 */
export const RATE_LIMIT_TIERS = ["standard", "high", "unmetered"] as const;
export type RateLimitTier = (typeof RATE_LIMIT_TIERS)[number];
export const OPERATOR_ONLY_TIER: RateLimitTier = RATE_LIMIT_TIERS[RATE_LIMIT_TIERS.length - 1];

export const KEY_NAME_MAX_LENGTH = 120;
export const KEY_DESCRIPTION_MAX_LENGTH = 500;

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * A real calendar date, or one with a time and `Z` or an offset (never a local time). `new Date` alone takes
 * "1", rolls 2027-02-30 over to March 2 and reads 24:00 as the next day; every date the API or the CLI accepts is
 * checked here.
 */
export function isIsoTime(value: string): boolean {
  const match = ISO_8601.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = match.slice(1).map((p) => Number(p ?? 0));
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0); // day 0 of the next month: the last day of this one
  return month >= 1 && month <= 12 && day >= 1 && day <= lastDay.getUTCDate() &&
    hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
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

export type CreateApiKeyOutcome =
  | { outcome: "ok"; api_key: ApiKey }
  | { outcome: "duplicate_name" }
  /** The creating key asked for permissions it lacks (listed) or a tier above its own or operator-only. */
  | {
    outcome: "exceeds_caller";
    permissions: Permission[];
    tier_exceeds: boolean;
    caller_rate_limit_tier: RateLimitTier;
  }
  /** The creating key was revoked or expired after it authenticated the request. */
  | { outcome: "creator_inactive" };
