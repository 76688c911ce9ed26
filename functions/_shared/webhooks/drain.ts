import { type Database, DEFAULT_RPC_TIMEOUT_MS } from "../db/database.ts";
import { DatabaseUnavailableError } from "../db/unavailable.ts";
import type { LogLine } from "../runtime/config.ts";
import { ConnectionPool } from "./connection-pool.ts";
import { attemptDelivery, type AttemptResult, type DeliverySettings } from "./deliver.ts";
import {
  type CircuitPolicy,
  claimDeliveries,
  type InFlightLimits,
  NO_RETRY,
  recordAttempt,
  type Recorded,
  type RecordOutcome,
} from "./delivery-queue.ts";
import type { ClaimedDelivery } from "./delivery-request.ts";
import { decideRetry, type RetryDecision } from "./retry-schedule.ts";

export interface DrainSettings extends DeliverySettings {
  /** Attempts in flight at once within one drain: open sockets, which cost no CPU while they wait. */
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
  /** What one endpoint or workspace may hold of all dispatchers' attempts at once (enforced by the claim). */
  inFlight: InFlightLimits;
  /** A delivery whose lease ran out unrecorded this many times (its worker died each time) is failed. */
  maxLostAttempts: number;
  circuit: CircuitPolicy;
}

export interface DrainSummary {
  claimed: number;
  cancelled: number;
  /** Expired leases this drain's claims recorded as lost attempts. */
  lost: number;
  delivered: number;
  rescheduled: number;
  failed: number;
  /** Attempts whose lease had been taken over by another claim; not recorded. */
  stale: number;
  /**
   * Attempts that could not be recorded before their lease ran short (database trouble throughout); their lease
   * runs out and they are sent again.
   */
  unrecorded: number;
  /** Endpoints this drain's attempts disabled (410 Gone, or failing for disableAfterSeconds). */
  disabled: number;
  /** Why claiming stopped: nothing left to claim, or the budget or claim window ran out with work left. */
  stopped: "empty" | "budget" | "window";
  duration_ms: number;
}

const LOCKED_RETRIES = 3;
const LOCKED_RETRY_MS = 25;

// An attempt that was sent is recorded before the drain lets go of it: a record call the database could not take
// (no connection free in time, the circuit open, a timeout, a deadlock) is tried again, backing off, for as long as
// the lease leaves room for one more call to finish. Given up, its lease runs out and it is sent again (attempt_lost):
// a second receipt. record_webhook_attempt writes only while the attempt still holds its lease, so a call that did
// commit before its answer was lost makes the retry `stale`, never a second attempt row.
const RECORD_RETRY_FIRST_MS = 50;
const RECORD_RETRY_MAX_MS = 1_000;
// One more call must end inside the lease: the seam's deadline is the RPC timeout plus its slack (under 1 s).
const RECORD_CALL_ROOM_MS = DEFAULT_RPC_TIMEOUT_MS + 1_000;

/** Whether a failed record call is worth making again: the database did not take it, or rolled it back. */
function retryableRecordError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const code = (error as { code?: unknown })?.code;
  // Class 40, transaction rollback: a deadlock or serialization failure undid the whole call.
  return typeof code === "string" && code.startsWith("40");
}

/** recordAttempt, tried again on database trouble until `leaseEndsAt` (performance.now() ms) leaves no room. */
async function recordBeforeLeaseEnds(
  db: Database,
  delivery: ClaimedDelivery,
  leaseEndsAt: number,
  ...rest: [AttemptResult, RetryDecision, DrainSettings]
): Promise<Recorded> {
  for (let waitMs = RECORD_RETRY_FIRST_MS;; waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS)) {
    try {
      return await recordAttempt(db, delivery, ...rest);
    } catch (error) {
      if (!retryableRecordError(error) || performance.now() + waitMs + RECORD_CALL_ROOM_MS > leaseEndsAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

const COUNTER: Record<RecordOutcome, "delivered" | "rescheduled" | "failed" | "stale"> = {
  success: "delivered",
  pending: "rescheduled",
  failed: "failed",
  stale: "stale",
};

/**
 * How a kick reaches a drain that is already running: it makes the drain claim again at once, so a delivery
 * queued during a drain does not wait behind that drain's slowest attempt. `open` is true while the drain may
 * still claim; a kick that finds it false needs a drain of its own.
 */
export class DrainWakeup {
  open = false;
  /** Kicks that reached the drain this way, for its log line. */
  wakes = 0;
  #woken = false;
  #notify: (() => void) | null = null;

  wake(): void {
    this.wakes++;
    this.#woken = true;
    this.#notify?.();
  }

  /** Whether a wake came since the last call. */
  take(): boolean {
    const woken = this.#woken;
    this.#woken = false;
    return woken;
  }

  /** Settles at the next wake. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.#notify = () => {
        this.#notify = null;
        resolve();
      };
    });
  }
}

/**
 * One dispatcher run: claims due deliveries into the free slots of a bounded pool, attempts each at once (so a
 * lease covers one attempt, not a wait in a queue), records it and schedules the retry. It claims again when a
 * kick wakes it, when its last claim filled up and half the pool is free, or when an attempt ends while due
 * deliveries were left unclaimed (in-flight limits, rows another claim held); it never claims twice without one of those, so it cannot spin. Stops
 * claiming when the budget is spent or the claim window closes, and ends once nothing is in flight.
 */
export async function drain(
  db: Database,
  settings: DrainSettings,
  log: (line: LogLine) => void,
  wakeup: DrainWakeup = new DrainWakeup(),
): Promise<DrainSummary> {
  const started = performance.now();
  const summary: DrainSummary = {
    claimed: 0,
    cancelled: 0,
    lost: 0,
    delivered: 0,
    rescheduled: 0,
    failed: 0,
    stale: 0,
    unrecorded: 0,
    disabled: 0,
    stopped: "empty",
    duration_ms: 0,
  };
  const refillAt = Math.ceil(settings.concurrency / 2);
  const inFlight = new Set<Promise<void>>();
  let endedSinceClaim = 0;
  const connections = new ConnectionPool();

  /** `leaseEndsAt`: when the claim's lease runs out at the earliest (performance.now() ms, taken before the claim). */
  const send = async (delivery: ClaimedDelivery, leaseEndsAt: number) => {
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
      const recorded = await recordBeforeLeaseEnds(db, delivery, leaseEndsAt, result, retry, settings);
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
    } finally {
      endedSinceClaim++;
    }
  };

  // The first claim is always made; after it, `full` and `moreDue` say whether the queue may hold more.
  let full = true;
  let moreDue = false;
  let woken = false;
  let claims = 0;
  let retriesLeft = LOCKED_RETRIES;
  try {
    while (true) {
      const budgetLeft = settings.maxDeliveries - summary.claimed;
      // The window closes claims after the first: a drain always makes one.
      const windowOpen = claims === 0 || performance.now() - started < settings.claimWindowMs;
      wakeup.open = budgetLeft > 0 && windowOpen;
      woken ||= wakeup.take();
      const free = settings.concurrency - inFlight.size;
      const worthIt = woken || (full && (inFlight.size === 0 || free >= refillAt)) || (moreDue && endedSinceClaim > 0);
      if (wakeup.open && free > 0 && worthIt) {
        woken = false;
        endedSinceClaim = 0;
        claims++;
        const limit = Math.min(free, budgetLeft);
        const leaseEndsAt = performance.now() + settings.leaseSeconds * 1000;
        const claim = await claimDeliveries(db, limit, settings);
        summary.claimed += claim.deliveries.length;
        summary.cancelled += claim.cancelled;
        summary.lost += claim.lost;
        full = claim.deliveries.length + claim.cancelled === limit;
        moreDue = claim.more_due;
        if (claim.deliveries.length > 0) retriesLeft = LOCKED_RETRIES;
        if (claim.lost > 0) {
          log({ level: "warn", msg: "webhook attempts lost", lost: claim.lost, lease_seconds: settings.leaseSeconds });
        }
        for (const delivery of claim.deliveries) {
          const task: Promise<void> = send(delivery, leaseEndsAt).finally(() => inFlight.delete(task));
          inFlight.add(task);
        }
        continue;
      }
      // Another dispatcher's claim held the due rows (SKIP LOCKED) at the moment of ours: try again shortly, a few
      // times, rather than leave them to the next scheduled run.
      if (inFlight.size === 0 && moreDue && wakeup.open && retriesLeft > 0) {
        retriesLeft--;
        await Promise.race([new Promise((resolve) => setTimeout(resolve, LOCKED_RETRY_MS)), wakeup.next()]);
        endedSinceClaim++;
        continue;
      }
      if (inFlight.size === 0) {
        wakeup.open = false;
        const workLeft = full || woken;
        summary.stopped = budgetLeft <= 0 ? "budget" : workLeft && !windowOpen ? "window" : "empty";
        break;
      }
      await Promise.race([...inFlight, wakeup.next()]);
    }
  } finally {
    wakeup.open = false;
    // A failed claim must not abandon attempts already on the wire: their results are still recorded.
    await Promise.all(inFlight);
    connections.close();
  }
  summary.duration_ms = Math.round(performance.now() - started);
  return summary;
}
