// The outbox as the dispatcher sees it: the two RPCs of migrations 20261128000500 and 20261130001000.
import type { Database } from "../db/database.ts";
import type { AttemptResult } from "./deliver.ts";
import type { ClaimedDelivery } from "./delivery-request.ts";
import type { DisabledReason } from "./endpoint.ts";
import type { RetryDecision } from "./retry-schedule.ts";

export interface Claim {
  deliveries: ClaimedDelivery[];
  /** Due deliveries found with a deleted or disabled endpoint, cancelled instead of claimed. */
  cancelled: number;
}

/** Leases up to `limit` due deliveries for `leaseSeconds`; rows another dispatcher holds are skipped. */
export function claimDeliveries(db: Database, limit: number, leaseSeconds: number): Promise<Claim> {
  return db.rpc("claim_webhook_deliveries", { p_limit: limit, p_lease_seconds: leaseSeconds });
}

/** What the delivery became; `stale` when the lease was lost to another claim and nothing was written. */
export type RecordOutcome = "success" | "pending" | "failed" | "stale";


export interface Recorded {
  outcome: RecordOutcome;
  disabled: DisabledReason | null;
}

/** A successful attempt: nothing to retry. */
export const NO_RETRY: RetryDecision = { retryInMs: null, spends: true, windowMs: null };

export function recordAttempt(
  db: Database,
  delivery: Pick<ClaimedDelivery, "delivery_id" | "attempt">,
  result: AttemptResult,
  retry: RetryDecision,
  disableAfterSeconds: number,
): Promise<Recorded> {
  return db.rpc("record_webhook_attempt", {
    p_delivery_id: delivery.delivery_id,
    p_attempt: delivery.attempt,
    p_status_code: result.statusCode,
    p_error: result.error,
    p_response_body: result.responseBody,
    p_duration_ms: result.durationMs,
    p_retry_in_ms: retry.retryInMs,
    p_spends: retry.spends,
    p_window_ms: retry.windowMs,
    p_disable_after_seconds: disableAfterSeconds,
  });
}
