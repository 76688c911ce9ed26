/** Seconds to wait after attempt 1, 2, ... before the next one (docs/api-behaviour.md, "Webhook deliveries"): 6 attempts in all. */
export const DEFAULT_RETRY_DELAYS = "30,120,600,3600,21600";

// Up to 10% later than scheduled, so endpoints that failed together are not all retried in the same second.
const MAX_JITTER = 0.1;

/** Parses WEBHOOK_RETRY_DELAYS: comma-separated, non-negative seconds; unset or empty means the default. */
export function parseRetryDelays(raw: string | undefined): number[] {
  const text = raw?.trim() ? raw : DEFAULT_RETRY_DELAYS;
  const delays = text.split(",").map((part) => (part.trim() === "" ? NaN : Number(part)));
  if (delays.some((d) => !Number.isFinite(d) || d < 0)) {
    throw new Error(`WEBHOOK_RETRY_DELAYS must be comma-separated non-negative seconds, got "${raw}"`);
  }
  return delays;
}

/** Days of nothing but failures after which an endpoint is disabled (docs/api-behaviour.md, "Webhook deliveries"). */
export const DEFAULT_DISABLE_AFTER_DAYS = 5;

/** Parses WEBHOOK_DISABLE_AFTER_DAYS (positive days, fractions allowed; unset or empty: 5) into seconds. */
export function parseDisableAfterSeconds(raw: string | undefined): number {
  const days = raw?.trim() ? Number(raw) : DEFAULT_DISABLE_AFTER_DAYS;
  const seconds = Math.round(days * 86_400);
  if (!Number.isFinite(days) || days <= 0 || seconds > 2_147_483_647) {
    throw new Error(`WEBHOOK_DISABLE_AFTER_DAYS must be a positive number of days, got "${raw}"`);
  }
  return seconds;
}

/**
 * How long to wait after failed attempt `attempt` (1-based), in milliseconds, or null when it was the last one.
 * `random` in [0, 1) picks the jitter, so the function stays pure.
 */
export function retryDelayMs(attempt: number, delaysSeconds: readonly number[], random: number): number | null {
  const delay = delaysSeconds[attempt - 1];
  if (delay === undefined) return null;
  return Math.round(delay * 1000 * (1 + MAX_JITTER * random));
}

/** Answers whose Retry-After the dispatcher honours (docs/api-behaviour.md, "Webhook deliveries"). */
export const BACK_PRESSURE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * The latest a receiver's Retry-After can put the next attempt: the default schedule's longest wait (6 h), fixed
 * whatever WEBHOOK_RETRY_DELAYS says.
 */
export const RETRY_AFTER_CAP_MS = 6 * 3600 * 1000;

// A receiver asking for "now" (0, or a date past) is still not retried in a tight loop.
export const RETRY_AFTER_FLOOR_MS = 1000;

/**
 * A Retry-After value (RFC 9110 section 10.2.3: delta-seconds or an HTTP-date) as milliseconds from `now`, between
 * RETRY_AFTER_FLOOR_MS and RETRY_AFTER_CAP_MS. null when absent or unreadable, so the schedule applies.
 */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  const text = value?.trim() ?? "";
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // HTTP-date only (IMF-fixdate, or the two obsolete forms); Date.parse alone would also take "1" or "2026".
    if (!/^[A-Za-z]{3,9}, /.test(text) && !/^[A-Za-z]{3} [A-Za-z]{3} /.test(text)) return null;
    ms = Date.parse(text) - now.getTime();
    if (Number.isNaN(ms)) return null;
  }
  return Math.min(Math.max(ms, RETRY_AFTER_FLOOR_MS), RETRY_AFTER_CAP_MS);
}

/** Where a failed delivery stands when it was claimed (claim_webhook_deliveries). */
export interface RetryState {
  /** Attempts spent of the schedule's six before this one. */
  spent: number;
  /** How long the retry window opened by the last spent attempt stays open; 0 once over, null before any. */
  windowLeftMs: number | null;
}

export interface RetryDecision {
  /** When to try again, or null: the delivery has failed for good. */
  retryInMs: number | null;
  /** Whether this attempt spent one of the schedule's attempts. */
  spends: boolean;
  /** A new retry window opened by this attempt, or null to keep the current one. */
  windowMs: number | null;
}

/**
 * What follows a failed attempt. The rule (docs/api-behaviour.md, "Webhook deliveries"): every failure spends one of the schedule's attempts
 * and opens that attempt's retry window (30 s after the first, 2 min after the second, ...), except a 429/503 with
 * Retry-After answered while the window of the last spent attempt is still open, which spends nothing. So a
 * receiver asking for back-pressure spends at most one attempt per window, and the next attempt is when it asked
 * (capped at 6 h) rather than the schedule's time. After the sixth spent attempt the delivery has failed.
 */
export function decideRetry(
  state: RetryState,
  retryAfterMs: number | null,
  delaysSeconds: readonly number[],
  random: number,
): RetryDecision {
  if (retryAfterMs !== null && state.windowLeftMs !== null && state.windowLeftMs > 0) {
    return { retryInMs: retryAfterMs, spends: false, windowMs: null };
  }
  const windowMs = retryDelayMs(state.spent + 1, delaysSeconds, random);
  if (windowMs === null) return { retryInMs: null, spends: true, windowMs: null };
  return { retryInMs: retryAfterMs ?? windowMs, spends: true, windowMs };
}
