import { db } from "./fixtures.ts";

/**
 * Holds `select ... for update` on a campaign row in an open transaction of its own, so an RPC that needs the row
 * waits: a real slow query, without adding functions to the shared schema. `release()` commits.
 */
export async function lockCampaignRow(id: string): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const transaction = db().begin(async (tx) => {
    await tx`select 1 from public.campaigns where id = ${id} for update`;
    locked();
    await released;
  });
  await Promise.race([isLocked, transaction]);
  return {
    release: async () => {
      release();
      await transaction;
    },
  };
}
