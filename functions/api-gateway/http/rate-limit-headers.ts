// The rate-limit response headers: the long-standing X-RateLimit-* (the day window) and the IETF httpapi fields
// (draft-ietf-httpapi-ratelimit-headers-10: Structured Field lists, `q`/`w` per policy, `r`/`t` per limit).
import type { RateLimitState, RateLimitWindow } from "@shared/db/rpc-catalogue.ts";
import { HEADER } from "../openapi/components.ts";

/**
 * The window that refuses first: the fewest requests left; on a tie the one that stays shut longer (on a 429 that
 * is the exceeded window, the one Retry-After counts down).
 */
function closestToExhaustion(windows: readonly RateLimitWindow[]): RateLimitWindow {
  return windows.reduce((a, b) =>
    b.remaining < a.remaining || (b.remaining === a.remaining && b.reset_in > a.reset_in) ? b : a
  );
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const closest = closestToExhaustion(state.windows);
  return {
    [HEADER.rateLimitLimit]: String(state.limit),
    [HEADER.rateLimitRemaining]: String(state.remaining),
    [HEADER.rateLimitReset]: String(state.reset),
    [HEADER.rateLimitPolicy]: state.windows.map((w) => `"${w.name}";q=${w.quota};w=${w.seconds}`).join(", "),
    [HEADER.rateLimitCurrent]: `"${closest.name}";r=${closest.remaining};t=${closest.reset_in}`,
  };
}
