// npm start's supervisor over real child processes: what dies is started again, and a process that keeps dying
// is given up on with a message that says so.
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import { endOf } from "@scripts/local/child-process.ts";
import { supervise, type Supervised } from "@scripts/local/supervisor.ts";

function nodeProcess(code: string): Supervised & { pid: number } {
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  return {
    pid: child.pid!,
    exited: endOf(child),
    stop: () => Promise.resolve(void child.kill()),
  };
}

it("restarts a process that was killed, and says so", async () => {
  const said: string[] = [];
  const starts: number[] = [];
  const start = () => {
    const p = nodeProcess("setInterval(() => {}, 1000)");
    starts.push(p.pid);
    return Promise.resolve(p);
  };
  const supervisor = supervise(await start(), start, {
    name: "worker",
    say: (m) => said.push(m),
    stopping: () => false,
    giveUp: (m) => said.push(`GAVE UP ${m}`),
  });
  process.kill(starts[0], "SIGKILL");
  while (starts.length < 2) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  expect(said).toEqual([
    "worker ended (signal SIGKILL); restarting in 250 ms",
    expect.stringMatching(/^worker restarted \(in \d+ ms\)$/),
  ]);
  const second = supervisor.current();
  expect(second.pid).toBe(starts[1]);
  expect(() => process.kill(second.pid, 0)).not.toThrow();
  await second.stop();
});

it("gives up after 5 failures in a row within a minute, with the last reason", async () => {
  const said: string[] = [];
  const start = () => Promise.resolve(nodeProcess("process.exit(3)"));
  const gaveUp = new Promise<string>((resolve) => {
    supervise(nodeProcess("process.exit(3)"), start, {
      name: "worker",
      say: (m) => said.push(m),
      stopping: () => false,
      giveUp: resolve,
    });
  });
  expect(await gaveUp).toBe("worker failed 5 times within 60 s (last: code 3); giving up");
  // Each restart "succeeds" (the process starts), then dies again: the delay doubles each time.
  expect(said).toEqual(
    [250, 500, 1000, 2000].flatMap((ms) => [
      `worker ended (code 3); restarting in ${ms} ms`,
      expect.stringMatching(/^worker restarted \(in \d+ ms\)$/),
    ]),
  );
});

it("does not restart what ends while everything is being stopped", async () => {
  let stopping = false;
  let restarts = 0;
  const first = nodeProcess("setInterval(() => {}, 1000)");
  supervise(first, () => Promise.resolve((restarts++, nodeProcess(""))), {
    name: "worker",
    say: () => {},
    stopping: () => stopping,
    giveUp: () => {},
  });
  stopping = true;
  await first.stop();
  await first.exited;
  await new Promise((r) => setTimeout(r, 400));
  expect(restarts).toBe(0);
});
