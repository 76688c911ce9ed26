// `npm run -s bench:dispatcher-cpu`: the webhook dispatcher's CPU time per delivery under Deno, the figure its
// per-invocation budget is derived from (functions/webhook-dispatcher/services.ts). The dispatcher runs alone in
// its Deno process as `npm start` runs it, and delivers to a receiver on 127.0.0.1; the CPU time is the process's
// utime + stime from /proc/<pid>/stat around draining a backlog to the last recorded attempt, so it covers the
// kicks, claims, signing, fetches and records, and every thread of the process (GC and I/O threads too: the edge
// runtime counts only the JS thread, so this errs high). Then the same for single deliveries, each committed and
// kicked alone, as at a low event rate: the CPU of one invocation that delivers one webhook. Then the CPU of single
// attempts under Deno, case by case (bench/attempt-cpu.ts): plain HTTP and TLS, each with a new connection per
// attempt and with connections reused, and each hostile receiver of the tests (tests/support/hostile-receivers.ts),
// whose attempts must stay under HOSTILE_TARGET_MS of CPU each. Linux only.
import { execFile, execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import postgres from "postgres";
import { DENO_RUN_FLAGS, denoExecutable } from "../scripts/local/deno.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";
import { HOSTILE_KINDS, type HostileKind, startHostileReceiver, TLS_DIR } from "../tests/support/hostile-receivers.ts";
import { dispatch, queueBacklog, startReceiver, subscribedTenant } from "./dispatcher.ts";
import { onCleanup, runBench, say, setting, startDatabase, startFunctions, wasInterrupted } from "./stack.ts";

const WARM_UP = 200;
const DELIVERIES = Math.round(setting("BENCH_DELIVERIES", 2000));
const ROUNDS = 3;
const SINGLES = 200;
const ATTEMPTS = Math.round(setting("BENCH_ATTEMPTS", 500));
const HOSTILE_ATTEMPTS = 10;
const HOSTILE_TARGET_MS = 20;
const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which sits in parentheses and may contain spaces: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Kicks the dispatcher once and waits until nothing is pending: every attempt sent and recorded. */
async function drainAll(sql: postgres.Sql, kick: () => Promise<Response>): Promise<void> {
  await (await kick()).body?.cancel();
  for (let i = 0; i < 3000; i++) {
    const [{ pending }] = await sql<{ pending: number }[]>`
      select count(*)::int as pending from public.webhook_deliveries where status = 'pending'`;
    if (pending === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("deliveries still pending after 60 s");
}

/** A receiver on 127.0.0.1 that answers every request 200 "ok" and keeps connections alive; its port. */
async function keptAliveReceiver(server: Server): Promise<number> {
  server.keepAliveTimeout = 60_000;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => req.resume().on("end", () => res.end("ok")));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup({
    name: "attempt receiver",
    run: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return (server.address() as AddressInfo).port;
}

interface AttemptRow {
  name: string;
  attempts: number;
  cpuMsPerAttempt: number;
  wallMs: number;
  longestAttemptMs: number;
  outcomes: Record<string, number>;
}

/** Runs bench/attempt-cpu.ts under Deno over `cases` (its AttemptCase shape); one row per case. */
async function attemptCpu(cases: object[]): Promise<AttemptRow[]> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      denoExecutable(),
      [...DENO_RUN_FLAGS, "bench/attempt-cpu.ts"],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          BENCH_ATTEMPT_CASES: JSON.stringify(cases),
          BENCH_TEST_CA: path.join(TLS_DIR, "ca.pem"),
        },
        timeout: 300_000,
      },
      (
        error,
        out,
        err,
      ) => (error ? reject(new Error(`bench/attempt-cpu.ts failed: ${error.message}\n${err}`)) : resolve(out)),
    );
  });
  return stdout.trim().split("\n").map((line) => JSON.parse(line) as AttemptRow);
}

async function attemptTable(): Promise<void> {
  const plain = `http://127.0.0.1:${await keptAliveReceiver(createHttpServer())}/hooks`;
  const tls = `https://hooks.test:${await keptAliveReceiver(createHttpsServer({
    key: await readFile(path.join(TLS_DIR, "hooks.test.key")),
    cert: await readFile(path.join(TLS_DIR, "hooks.test.pem")),
  }))}/hooks`;
  const normal = (name: string, url: string, reuse: boolean) => ({
    name,
    url,
    attempts: ATTEMPTS,
    parallel: false,
    reuse,
    trustTestCa: true,
  });
  const hostile = [];
  for (const kind of Object.keys(HOSTILE_KINDS) as HostileKind[]) {
    const receiver = await startHostileReceiver(kind);
    onCleanup({ name: `hostile receiver (${kind})`, run: () => receiver.close() });
    // As a drain sends them: through the drain's pool; the untrusted certificate is untrusted here too.
    hostile.push({
      name: `hostile: ${kind}`,
      url: receiver.url,
      attempts: HOSTILE_ATTEMPTS,
      parallel: true,
      reuse: true,
      trustTestCa: false,
    });
  }
  say(`CPU per attempt under Deno: ${ATTEMPTS} attempts per normal case, ${HOSTILE_ATTEMPTS} at once per hostile kind`);
  const cases = [
    normal("plain HTTP, new connection each", plain, false),
    normal("plain HTTP, connection reused", plain, true),
    normal("TLS, new connection each", tls, false),
    normal("TLS, connection reused", tls, true),
    ...hostile,
  ];
  // A Deno process per case, so that no case pays for the garbage or background work another one left behind.
  const rows: AttemptRow[] = [];
  for (const c of cases) if (!wasInterrupted()) rows.push(...(await attemptCpu([c])));
  const width = Math.max(...rows.map((row) => row.name.length));
  console.log(
    "\nCPU per attempt under Deno (attemptDelivery alone: URL check, signing, connect, request, reading the answer)",
  );
  console.log(`${"case".padEnd(width)}  attempts  CPU ms/attempt  longest ms  outcomes`);
  for (const row of rows) {
    const target = row.name.startsWith("hostile")
      ? (row.cpuMsPerAttempt <= HOSTILE_TARGET_MS ? "  pass" : "  MISS")
      : "";
    const outcomes = Object.entries(row.outcomes).map(([outcome, n]) => `${outcome} x${n}`).join(", ");
    console.log(
      `${row.name.padEnd(width)}  ${String(row.attempts).padStart(8)}  ${row.cpuMsPerAttempt.toFixed(3).padStart(14)}` +
        `  ${String(row.longestAttemptMs).padStart(10)}  ${outcomes}${target}`,
    );
  }
  console.log(`(hostile target: at most ${HOSTILE_TARGET_MS} ms of CPU per attempt; attempt timeout as deployed)`);
}

async function main(): Promise<void> {
  const database = await startDatabase();
  const sql = postgres(database.url, { max: 2, onnotice: () => {} });
  onCleanup({ name: "fixture connection", run: () => sql.end({ timeout: 5 }) });
  const functions = await startFunctions(database.url);
  const receiver = await startReceiver();
  const { tenant } = await subscribedTenant(sql, receiver.url);
  const kick = () => dispatch(functions);

  await queueBacklog(sql, tenant.workspaceId, WARM_UP);
  await drainAll(sql, kick);
  const perDelivery: number[] = [];
  for (let round = 1; round <= ROUNDS && !wasInterrupted(); round++) {
    await queueBacklog(sql, tenant.workspaceId, DELIVERIES);
    const before = await cpuMs(functions.dispatcherPid);
    await drainAll(sql, kick);
    const spent = (await cpuMs(functions.dispatcherPid)) - before;
    perDelivery.push(spent / DELIVERIES);
    const each = (spent / DELIVERIES).toFixed(3);
    say(`round ${round}: ${DELIVERIES} deliveries, ${spent.toFixed(0)} ms CPU, ${each} ms each`);
  }
  const singlesBefore = await cpuMs(functions.dispatcherPid);
  for (let i = 0; i < SINGLES && !wasInterrupted(); i++) {
    await queueBacklog(sql, tenant.workspaceId, 1);
    await drainAll(sql, kick);
  }
  const perSingle = ((await cpuMs(functions.dispatcherPid)) - singlesBefore) / SINGLES;
  const received = receiver.receipts.size;
  const expected = WARM_UP + DELIVERIES * perDelivery.length + SINGLES;
  if (received < expected) throw new Error(`only ${received} of ${expected} deliveries received`);
  console.log(
    `dispatcher CPU per delivery: ${Math.max(...perDelivery).toFixed(3)} ms (worst of ${perDelivery.length} rounds ` +
      `of ${DELIVERIES}; all: ${perDelivery.map((x) => x.toFixed(3)).join(", ")})`,
  );
  console.log(`dispatcher CPU per invocation delivering one webhook: ${perSingle.toFixed(3)} ms (${SINGLES} kicks)`);
  if (!wasInterrupted()) await attemptTable();
}

await runBench(main, () => {});
