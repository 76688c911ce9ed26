import { DrainWakeup } from "../_shared/webhooks/drain.ts";

/**
 * Turns kicks into drains, with at most one drain claiming at a time per isolate. A kick while a drain may still
 * claim wakes that drain and shares its result. Otherwise it starts a new drain at once, even while an earlier one
 * waits for its last attempts: that wait costs no CPU, and a delivery queued meanwhile must not wait behind a
 * receiver that hangs. Each drain spends at most its own budget (services.ts), so the isolate's CPU is bounded by
 * the drains it runs, as before. `run` must not reject.
 */
export function drainOnKick<T>(
  run: (wakeup: DrainWakeup, requestId: string) => Promise<T>,
): (requestId: string) => Promise<T> {
  let claiming: { wakeup: DrainWakeup; result: Promise<T> } | null = null;
  return (requestId) => {
    if (claiming?.wakeup.open) {
      claiming.wakeup.wake();
      return claiming.result;
    }
    const wakeup = new DrainWakeup();
    claiming = { wakeup, result: run(wakeup, requestId) };
    return claiming.result;
  };
}
