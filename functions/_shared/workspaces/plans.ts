// Workspaces and the plans that set their rate limits (docs/api-behaviour.md, "Rate limits"). The database
// enforces the same values (the workspaces table's CHECK constraints, public.plan_limits);
// tests/db/shared-facts.test.ts compares them.

export const PLANS = ["starter", "pro", "org"] as const;
export type Plan = (typeof PLANS)[number];

/** Requests per workspace on the `standard` tier. */
export const PLAN_LIMITS: Record<Plan, { perDay: number; perMinute: number }> = {
  starter: { perDay: 100, perMinute: 10 },
  pro: { perDay: 1_000, perMinute: 50 },
  org: { perDay: 10_000, perMinute: 200 },
};

/** Keys on the `high` tier get this many times their plan's limits; `unmetered` keys are not counted. */
export const HIGH_TIER_FACTOR = 10;

export const WORKSPACE_NAME_MAX_LENGTH = 200;
