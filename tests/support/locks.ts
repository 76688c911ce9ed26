import type postgres from "postgres";
import { db } from "./fixtures.ts";

export interface HeldLock {
  /** How many backends are waiting behind this transaction, directly or queued behind another waiter. */
  waiters(): Promise<number>;
  /** Commits, letting the waiters go. */
  release(): Promise<void>;
}

/** Runs `lock` in an open transaction of its own and keeps the transaction, and so its row locks, open. */
async function holdLock(lock: (tx: postgres.TransactionSql) => Promise<unknown>): Promise<HeldLock> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: (pid: number) => void;
  const isLocked = new Promise<number>((resolve) => (locked = resolve));
  const transaction = db().begin(async (tx) => {
    await lock(tx);
    const [{ pid }] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
    locked(pid);
    await released;
  });
  await Promise.race([isLocked, transaction]);
  const pid = await isLocked;
  return {
    waiters: async () => {
      const [{ count }] = await db()<{ count: number }[]>`
        with recursive blocked (pid) as (
          select a.pid from pg_stat_activity a where ${pid}::int = any (pg_blocking_pids(a.pid))
          union
          select a.pid from pg_stat_activity a join blocked b on b.pid = any (pg_blocking_pids(a.pid))
        )
        select count(*)::int as count from blocked`;
      return count;
    },
    release: async () => {
      release();
      await transaction;
    },
  };
}

/**
 * Holds `select ... for update` on a campaign row, so an RPC that needs the row waits: a real slow query, without
 * adding functions to the shared schema.
 */
export function lockCampaignRow(id: string): Promise<HeldLock> {
  return holdLock((tx) => tx`select 1 from public.campaigns where id = ${id} for update`);
}

/** Holds the workspace row the way the key-management RPCs lock it, so they queue behind this transaction. */
export function lockWorkspaceRow(id: string): Promise<HeldLock> {
  return holdLock((tx) => tx`select 1 from public.workspaces where id = ${id} for no key update`);
}

/** Polls until `count` backends wait behind `lock`. */
export async function untilWaiting(lock: HeldLock, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await lock.waiters()) < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} backends ever waited for the lock`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
