// Retention for the local runner, which has no pg_cron: the same calls the production job makes (migrations
// 20261130001010_webhook_retention_and_fan_out.sql and 20261201000200_idempotency_keys.sql), on a timer.
import postgres from "postgres";
import type { PrunedHistory } from "@shared/db/rpc-catalogue.ts";

/** Days of webhook events, deliveries and attempts kept (docs/api-behaviour.md, "Webhook deliveries"); WEBHOOK_RETENTION_DAYS overrides. */
export const DEFAULT_RETENTION_DAYS = 30;
const RETENTION_INTERVAL_MS = 10 * 60 * 1000;

export interface PruneLimits {
  keepDays: number;
  /** Rows per DELETE statement. */
  batch: number;
  /** DELETE rounds (one per table each) per run at most. */
  rounds: number;
}

/** The production job's limits, with WEBHOOK_RETENTION_DAYS (a positive whole number) if set. */
export function pruneLimitsFromEnv(env: Record<string, string | undefined>): PruneLimits {
  const raw = env.WEBHOOK_RETENTION_DAYS?.trim();
  const keepDays = raw ? Number(raw) : DEFAULT_RETENTION_DAYS;
  if (!Number.isInteger(keepDays) || keepDays < 1) {
    throw new Error(`WEBHOOK_RETENTION_DAYS must be a whole number of days, at least 1, got "${raw}"`);
  }
  return { keepDays, batch: 5000, rounds: 4 };
}

export async function pruneWebhookHistory(sql: postgres.Sql, limits: PruneLimits): Promise<PrunedHistory> {
  const [{ pruned }] = await sql<{ pruned: PrunedHistory }[]>`
    select public.prune_webhook_history(${limits.keepDays}, ${limits.batch}, ${limits.rounds}) as pruned`;
  return pruned;
}

/** Idempotency keys past their 24 hours, in the same bounded batches. */
export async function pruneIdempotencyKeys(sql: postgres.Sql, limits: PruneLimits): Promise<number> {
  const [{ pruned }] = await sql<{ pruned: { idempotency_keys: number } }[]>`
    select public.prune_idempotency_keys(${limits.batch}, ${limits.rounds}) as pruned`;
  return pruned.idempotency_keys;
}

/**
 * Prunes now and every 10 minutes over a connection of its own (the database owner's, as pg_cron's job runs).
 * A failed run is reported and the next one tries again. Returns the stop function.
 */
export function startRetentionTicker(
  databaseUrl: string,
  limits: PruneLimits,
  report: (message: string) => void,
): () => Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = Promise.all([pruneWebhookHistory(sql, limits), pruneIdempotencyKeys(sql, limits)]).then(
      ([pruned, keys]) => {
        if (pruned.attempts + pruned.deliveries + pruned.events > 0) {
          report(`webhook history pruned: ${JSON.stringify(pruned)}`);
        }
        if (keys > 0) report(`idempotency keys pruned: ${keys}`);
      },
      (error: unknown) => report(`retention failed: ${error instanceof Error ? error.message : error}`),
    );
  };
  run();
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    await running;
    await sql.end();
  };
}
