/** Something `npm start` started and keeps running. */
export interface Supervised {
  /** Settles when it ends on its own, with how it ended ("signal SIGKILL", "code 1"). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  name: string;
  say: (message: string) => void;
  /** True once everything is being stopped on purpose: an exit then is expected, not restarted. */
  stopping: () => boolean;
  /** Called once, when restarting is no longer reasonable. */
  giveUp: (message: string) => void;
}

// A process that dies within STABLE_MS of starting (or cannot be started) is failing; five such failures in a row
// within a minute is a fault a restart will not cure, and is reported as one. A process that ran longer had started
// fine: its death is a new incident, restarted after the shortest delay.
const MAX_FAILURES = 5;
const WINDOW_MS = 60_000;
const STABLE_MS = 5_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

/**
 * Restarts `start()`'s product whenever it ends on its own, after a delay that doubles with each failure in a row;
 * a restart that fails counts as a failure too. `current()` is what runs now (stop that one on shutdown).
 */
export function supervise<T extends Supervised>(
  first: T,
  start: () => Promise<T>,
  options: SupervisorOptions,
): { current(): T } {
  const failures: number[] = [];
  let current = first;

  async function watch(exited: Promise<string>, startedAt: number): Promise<void> {
    const how = await exited;
    if (options.stopping()) return;
    const now = Date.now();
    if (now - startedAt >= STABLE_MS) failures.length = 0;
    failures.push(now);
    while (failures[0] <= now - WINDOW_MS) failures.shift();
    if (failures.length >= MAX_FAILURES) {
      options.giveUp(
        `${options.name} failed ${failures.length} times within ${WINDOW_MS / 1000} s (last: ${how}); giving up`,
      );
      return;
    }
    const delay = Math.min(FIRST_DELAY_MS * 2 ** (failures.length - 1), MAX_DELAY_MS);
    options.say(`${options.name} ended (${how}); restarting in ${delay} ms`);
    await new Promise((r) => setTimeout(r, delay));
    if (options.stopping()) return;
    const restartAt = Date.now();
    try {
      current = await start();
      // Asked to stop while it was starting: the shutdown already stopped the previous one.
      if (options.stopping()) return await current.stop();
      options.say(`${options.name} restarted (in ${Date.now() - restartAt} ms)`);
      return watch(current.exited, Date.now());
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
      return watch(Promise.resolve(`restart failed: ${reason}`), restartAt);
    }
  }

  void watch(first.exited, Date.now());
  return { current: () => current };
}
