// How this project's programs end the processes they start (Postgres, the Deno functions): one place for
// "has it ended", "how did it end" and "stop it, and make sure".
import type { ChildProcess } from "node:child_process";

/** Ended, by exiting or by a signal. */
export const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** How it ended, for a log line: "signal SIGKILL", "code 1". */
const howItEnded = (
  code: number | null,
  signal: NodeJS.Signals | null,
) => (signal ? `signal ${signal}` : `code ${code}`);

/** Settles once it has ended, however it ends (already, or later), with how it ended. */
export function endOf(child: ChildProcess): Promise<string> {
  if (hasExited(child)) return Promise.resolve(howItEnded(child.exitCode, child.signalCode));
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(howItEnded(code, signal))));
}

/**
 * Asks it to stop with `signal` (SIGTERM unless said), and kills it if it is still there after `graceMs`; settles once
 * it is gone. A process that has already ended is left as it is.
 */
export async function stopChild(
  child: ChildProcess,
  { signal = "SIGTERM", graceMs = 5_000 }: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<void> {
  if (hasExited(child)) return;
  const ended = endOf(child);
  child.kill(signal);
  const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await ended;
  clearTimeout(killer);
}
