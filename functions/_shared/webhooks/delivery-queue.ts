// The outbox as the dispatcher sees it: the two RPCs of migration 20261207000200.
import type { Database } from "../db/database.ts";
import type { AttemptResult } from "./deliver.ts";
import type { ClaimedDelivery } from "./delivery-request.ts";
import type { DisabledReason } from "./endpoint.ts";
import type { RetryDecision } from "./retry-schedule.ts";

/** How much of the dispatchers' attempts one endpoint or one workspace may hold at once, across every dispatcher. */
export interface InFlightLimits {
  /** Attempts in flight per endpoint. */
  endpointConcurrency: number;
  /** Attempts in flight per workspace, over all its endpoints. */
  workspaceConcurrency: number;
}

/** When an endpoint as a whole is backed off: after `after` consecutive failed attempts, for `baseSeconds`, doubling. */
export interface CircuitPolicy {
  after: number;
  baseSeconds: number;
  maxSeconds: number;
}

export interface Claim {
  deliveries: ClaimedDelivery[];
  /** Due deliveries found with a deleted or disabled endpoint, cancelled instead of claimed. */
  cancelled: number;
  /** Expired leases recorded as lost attempts (their worker was gone). */
  lost: number;
  /**
   * Due deliveries of open endpoints are left unclaimed (an in-flight limit held them back, or another claim had
   * them locked): worth claiming again once an attempt ends.
   */
  more_due: boolean;
}

/** The claim's arguments beyond the batch size and lease, as the SQL function names them. */
export interface ClaimLimits extends CircuitSettings {
  p_endpoint_limit: number;
  p_workspace_limit: number;
  p_max_lost: number;
}

export interface CircuitSettings {
  p_circuit_after: number;
  p_circuit_base_seconds: number;
  p_circuit_max_seconds: number;
}

function circuitArgs(circuit: CircuitPolicy): CircuitSettings {
  return {
    p_circuit_after: circuit.after,
    p_circuit_base_seconds: circuit.baseSeconds,
    p_circuit_max_seconds: circuit.maxSeconds,
  };
}

/**
 * Leases up to `limit` due deliveries for `leaseSeconds`, within the in-flight limits, skipping open circuits and
 * rows another dispatcher holds; first records expired leases as lost attempts, failing a delivery after
 * `maxLostAttempts` of them.
 */
export function claimDeliveries(
  db: Database,
  limit: number,
  settings: { leaseSeconds: number; inFlight: InFlightLimits; maxLostAttempts: number; circuit: CircuitPolicy },
): Promise<Claim> {
  return db.rpc("claim_webhook_deliveries", {
    p_limit: limit,
    p_lease_seconds: settings.leaseSeconds,
    p_endpoint_limit: settings.inFlight.endpointConcurrency,
    p_workspace_limit: settings.inFlight.workspaceConcurrency,
    p_max_lost: settings.maxLostAttempts,
    ...circuitArgs(settings.circuit),
  });
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
  settings: { disableAfterSeconds: number; circuit: CircuitPolicy },
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
    p_disable_after_seconds: settings.disableAfterSeconds,
    ...circuitArgs(settings.circuit),
  });
}
