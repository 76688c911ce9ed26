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

/**
 * How long to wait after failed attempt `attempt` (1-based), in milliseconds, or null when it was the last one.
 * `random` in [0, 1) picks the jitter, so the function stays pure.
 */
export function retryDelayMs(attempt: number, delaysSeconds: readonly number[], random: number): number | null {
  const delay = delaysSeconds[attempt - 1];
  if (delay === undefined) return null;
  return Math.round(delay * 1000 * (1 + MAX_JITTER * random));
}
