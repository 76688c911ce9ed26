import type { Database } from "../db/database.ts";
import type { LogLine } from "../runtime/config.ts";
import { ConnectionPool } from "./connection-pool.ts";
import { attemptDelivery, type DeliverySettings } from "./deliver.ts";
import { claimDeliveries, NO_RETRY, recordAttempt, type RecordOutcome } from "./delivery-queue.ts";
import type { ClaimedDelivery } from "./delivery-request.ts";
import { decideRetry } from "./retry-schedule.ts";

export interface DrainSettings extends DeliverySettings {
  /** Attempts in flight at once within one invocation. */
  concurrency: number;
  /** No new claims after this long, so an invocation ends well inside the edge wall-clock limit. */
  claimWindowMs: number;
  /** No more claims per drain than this: the CPU budget, counted in deliveries (see the dispatcher's services). */
  maxDeliveries: number;
  /** Must outlast an attempt plus its record call, or a slow attempt is sent twice. */
  leaseSeconds: number;
  retryDelaysSeconds: readonly number[];
  /** An endpoint whose attempts have all failed for this long is disabled (WEBHOOK_DISABLE_AFTER_DAYS). */
  disableAfterSeconds: number;
}

export interface DrainSummary {
  claimed: number;
  cancelled: number;
  delivered: number;
  rescheduled: number;
  failed: number;
  /** Attempts whose lease had been taken over by another claim; not recorded. */
  stale: number;
  /** Attempts that could not be recorded (database trouble); their lease runs out and they are sent again. */
  unrecorded: number;
  /** Endpoints this drain's attempts disabled (410 Gone, or failing for disableAfterSeconds). */
  disabled: number;
  /** Why claiming stopped: the queue came up short, or the budget or claim window ran out with work left. */
  stopped: "empty" | "budget" | "window";
  duration_ms: number;
}

const COUNTER: Record<RecordOutcome, "delivered" | "rescheduled" | "failed" | "stale"> = {
  success: "delivered",
  pending: "rescheduled",
  failed: "failed",
  stale: "stale",
};

/**
 * One dispatcher run: claims due deliveries in batches that fill the free slots of a bounded pool, attempts each
 * at once (so a lease only has to cover one attempt, not a wait in a queue), records it and schedules the retry.
 * Stops claiming when the queue comes up short, the budget is spent or the claim window closes, then waits for
 * what is in flight.
 */
export async function drain(db: Database, settings: DrainSettings, log: (line: LogLine) => void): Promise<DrainSummary> {
  const started = performance.now();
  const summary: DrainSummary = {
    claimed: 0, cancelled: 0, delivered: 0, rescheduled: 0, failed: 0, stale: 0, unrecorded: 0, disabled: 0, stopped: "empty",
    duration_ms: 0,
  };
  // Claiming again only once half the pool is free keeps claim calls few without leaving slots idle for long.
  const refillAt = Math.ceil(settings.concurrency / 2);
  const inFlight = new Set<Promise<void>>();
  const connections = new ConnectionPool();

  const send = async (delivery: ClaimedDelivery) => {
    try {
      const result = await attemptDelivery(delivery, settings, connections);
      const retry = result.error
        ? decideRetry(
          { spent: delivery.spent, windowLeftMs: delivery.window_left_ms },
          result.retryAfterMs,
          settings.retryDelaysSeconds,
          Math.random(),
        )
        : NO_RETRY;
      const recorded = await recordAttempt(db, delivery, result, retry, settings.disableAfterSeconds);
      summary[COUNTER[recorded.outcome]]++;
      if (recorded.disabled) summary.disabled++;
    } catch (error) {
      summary.unrecorded++;
      log({
        level: "error",
        msg: "webhook attempt not recorded",
        delivery_id: delivery.delivery_id,
        attempt: delivery.attempt,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  let more = true;
  try {
    while (true) {
      const free = settings.concurrency - inFlight.size;
      const windowOpen = performance.now() - started < settings.claimWindowMs;
      if (more && !windowOpen) summary.stopped = "window";
      const claimOpen = more && windowOpen;
      if (claimOpen && (inFlight.size === 0 || free >= refillAt)) {
        const limit = Math.min(free, settings.maxDeliveries - summary.claimed);
        const claim = await claimDeliveries(db, limit, settings.leaseSeconds);
        summary.claimed += claim.deliveries.length;
        summary.cancelled += claim.cancelled;
        const full = claim.deliveries.length + claim.cancelled === limit;
        more = full && summary.claimed < settings.maxDeliveries;
        if (full && !more) summary.stopped = "budget";
        for (const delivery of claim.deliveries) {
          const task: Promise<void> = send(delivery).finally(() => inFlight.delete(task));
          inFlight.add(task);
        }
        continue;
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
  } finally {
    // A failed claim must not abandon attempts already on the wire: their results are still recorded.
    await Promise.all(inFlight);
    connections.close();
  }
  summary.duration_ms = Math.round(performance.now() - started);
  return summary;
}
