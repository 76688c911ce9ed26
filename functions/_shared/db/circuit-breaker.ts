import { DatabaseUnavailableError } from "./unavailable.ts";
import type { Database } from "./database.ts";

/** How often an open circuit asks the database whether it is back. */
export const DEFAULT_PROBE_INTERVAL_MS = 250;

export interface CircuitBreakerOptions {
  probeIntervalMs?: number;
  /** Told when the circuit opens or closes (for the log). */
  onChange?: (state: "open" | "closed", reason: string) => void;
}

export interface GuardedDatabase extends Database {
  readonly state: "open" | "closed";
}

/**
 * Wraps either side of the database seam. Closed, calls pass through. The first failure of the connection itself
 * (refused, dropped, no answer; see DatabaseUnavailableError.unreachable) opens it: every call then fails at once
 * with DatabaseUnavailableError, and one `health_check` at a time probes the database in the background; the first
 * probe that answers closes it again. A call the seam gave up on at its deadline (`unanswered`) opens it only if a
 * `health_check` sent then goes unanswered or fails the same way. A slow statement or a business error never opens it.
 */
export function withCircuitBreaker(inner: Database, options: CircuitBreakerOptions = {}): GuardedDatabase {
  const probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  let open = false;
  let checking = false;
  let lastFailure = "";

  function scheduleProbe() {
    const timer = setTimeout(probe, probeIntervalMs);
    // Node: a waiting probe alone does not keep a process (a test worker, a CLI) alive. Deno timers are numbers.
    (timer as { unref?: () => void }).unref?.();
  }

  async function probe() {
    try {
      await inner.rpc("health_check", {});
      open = false;
      options.onChange?.("closed", "health_check answered");
    } catch (error) {
      lastFailure = error instanceof Error ? error.message : String(error);
      scheduleProbe();
    }
  }

  /** A call went unanswered: one `health_check` at a time tells a slow statement from a database that is gone. */
  function check(unanswered: DatabaseUnavailableError) {
    if (open || checking) return;
    checking = true;
    inner.rpc("health_check", {}).then(
      () => {},
      (error) => {
        if (error instanceof DatabaseUnavailableError && (error.unreachable || error.unanswered)) {
          trip(new DatabaseUnavailableError(`${unanswered.message}; then ${error.message}`, { unreachable: true }));
        }
      },
    ).finally(() => {
      checking = false;
    });
  }

  function trip(error: DatabaseUnavailableError) {
    lastFailure = error.message;
    if (open) return;
    open = true;
    options.onChange?.("open", error.message);
    scheduleProbe();
  }

  return {
    get state() {
      return open ? "open" : "closed";
    },
    async rpc(name, args) {
      if (open) {
        throw new DatabaseUnavailableError(`rpc ${name}: circuit open, database unreachable (${lastFailure})`, {
          unreachable: true,
        });
      }
      try {
        return await inner.rpc(name, args);
      } catch (error) {
        if (error instanceof DatabaseUnavailableError) {
          if (error.unreachable) trip(error);
          else if (error.unanswered) check(error);
        }
        throw error;
      }
    },
  };
}
