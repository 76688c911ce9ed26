// The outbox as the dispatcher sees it: the two RPCs of migration 20261128000500_webhook_dispatch.sql.
import type { Database } from "../db/database.ts";
import type { AttemptResult } from "./deliver.ts";
import type { ClaimedDelivery } from "./delivery-request.ts";

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

export async function recordAttempt(
  db: Database,
  delivery: Pick<ClaimedDelivery, "delivery_id" | "attempt">,
  result: AttemptResult,
  retryInMs: number | null,
): Promise<RecordOutcome> {
  const { outcome } = await db.rpc("record_webhook_attempt", {
    p_delivery_id: delivery.delivery_id,
    p_attempt: delivery.attempt,
    p_status_code: result.statusCode,
    p_error: result.error,
    p_response_body: result.responseBody,
    p_duration_ms: result.durationMs,
    p_retry_in_ms: retryInMs,
  });
  return outcome;
}
