// `npm run -s bench:dispatcher-cpu`: the webhook dispatcher's CPU time per delivery under Deno, the figure its
// per-invocation budget is derived from (functions/webhook-dispatcher/services.ts). The dispatcher runs alone in
// its Deno process as `npm start` runs it, and delivers to a receiver on 127.0.0.1; the CPU time is the process's
// utime + stime from /proc/<pid>/stat around draining a backlog to the last recorded attempt, so it covers the
// kicks, claims, signing, fetches and records, and every thread of the process (GC and I/O threads too: the edge
// runtime counts only the JS thread, so this errs high). Then the same for single deliveries, each committed and
// kicked alone, as at a low event rate: the CPU of one invocation that delivers one webhook. Linux only.
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import postgres from "postgres";
import { dispatch, queueBacklog, startReceiver, subscribedTenant } from "./dispatcher.ts";
import { onCleanup, runBench, say, setting, startDatabase, startFunctions, wasInterrupted } from "./stack.ts";

const WARM_UP = 200;
const DELIVERIES = Math.round(setting("BENCH_DELIVERIES", 2000));
const ROUNDS = 3;
const SINGLES = 200;
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
}

await runBench(main, () => {});
