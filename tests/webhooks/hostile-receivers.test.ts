// Receivers that try to make one attempt expensive or endless (tests/support/hostile-receivers.ts): each attempt
// ends within the attempt timeout plus 1 s and is recorded with the outcome the receiver earned, and the dispatcher
// has closed every connection it opened once its drain is over (under Node, where the dispatcher outlives the
// drain; the Deno program exits). One drain per runtime sends one delivery to each receiver at once: the
// dispatcher under Node in this process, and under real Deno with the deployed connector (tests/support/deno-drain.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { startDispatcher } from "../support/dispatcher.ts";
import {
  HOSTILE_KINDS,
  type HostileKind,
  type HostileReceiver,
  startHostileReceiver,
} from "../support/hostile-receivers.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";
import { runDenoProgram } from "../support/processes.ts";
import { queueDelivery as queueDeliveryIn } from "@support/queue-delivery.ts";

const ATTEMPT_TIMEOUT_MS = 1500;
const KINDS = Object.keys(HOSTILE_KINDS) as HostileKind[];

let pdb: PrivateDatabase;
let dispatcherDb: PostgresDatabase;

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  dispatcherDb = createPostgresDatabase(pdb.url);
});
afterAll(async () => {
  await dispatcherDb?.close();
  await pdb?.drop();
});

/** One delivery of a fresh event, due now, to `url`; its id. */
const queueDelivery = (url: string) => queueDeliveryIn(pdb.sql, url);

/** One drain, every receiver's name (hooks.test) resolving to 127.0.0.1. */
const RUNTIMES = {
  node: async () => {
    const dispatcher = await startDispatcher({
      db: dispatcherDb,
      settings: { timeoutMs: ATTEMPT_TIMEOUT_MS, resolveHost: () => Promise.resolve(["127.0.0.1"]) },
    });
    try {
      expect(await dispatcher.drain()).toMatchObject({ claimed: KINDS.length });
    } finally {
      await dispatcher.close();
    }
  },
  deno: async () => {
    const out = await runDenoProgram("tests/support/deno-drain.ts", {
      DATABASE_URL: pdb.url,
      DISPATCHER_SECRET: "deno-drain-secret",
      WEBHOOK_ALLOW_PRIVATE_URLS: "1",
      RESOLVER_ANSWERS: JSON.stringify([["127.0.0.1"]]),
      ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
    });
    const result = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(result.status, out).toBe(202);
    expect(result.body.data, out).toMatchObject({ claimed: KINDS.length });
  },
};

describe.each(Object.entries(RUNTIMES))("hostile receivers, dispatcher under %s", (_, drainOnce) => {
  const receivers = new Map<HostileKind, HostileReceiver>();
  const deliveries = new Map<HostileKind, string>();
  let closedByDispatcher = new Map<HostileKind, boolean>();

  beforeAll(async () => {
    for (const kind of KINDS) {
      const receiver = await startHostileReceiver(kind);
      receivers.set(kind, receiver);
      deliveries.set(kind, await queueDelivery(receiver.url));
    }
    try {
      await drainOnce();
      // Kept-alive connections go back to the drain's pool and are closed when the drain ends.
      const closed = await Promise.all(
        KINDS.map(async (kind) => [kind, await receivers.get(kind)!.allClosed(2000)] as const),
      );
      closedByDispatcher = new Map(closed);
    } finally {
      await Promise.all([...receivers.values()].map((receiver) => receiver.close()));
    }
  });

  it.each(KINDS)("%s: the recorded outcome, within the attempt timeout plus 1 s, connection closed", async (kind) => {
    const [attempt] = await pdb.sql<
      {
        status: string;
        status_code: number | null;
        error: string | null;
        response_body: string | null;
        duration_ms: number;
      }[]
    >`
      select status, status_code, error, response_body, duration_ms
      from public.webhook_attempts where delivery_id = ${deliveries.get(kind)!}`;
    const { duration_ms, ...outcome } = attempt;
    expect(outcome).toEqual(HOSTILE_KINDS[kind].expected);
    expect(duration_ms).toBeLessThanOrEqual(ATTEMPT_TIMEOUT_MS + 1000);
    expect(closedByDispatcher.get(kind)).toBe(true);
  });
});
