// One tenant's bad receivers never hold up another's deliveries: in-flight limits per endpoint and workspace, the
// endpoint circuit, turns across workspaces, and deliveries whose worker keeps dying. Real receivers on loopback,
// the real dispatcher (in this process, and under Deno where a worker is killed). The dispatcher drains the whole
// outbox, so this suite has a database of its own.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { nodeConnect, nodeResolveHost } from "@shared/runtime/node.ts";
import { claimDeliveries } from "@shared/webhooks/delivery-queue.ts";
import { drainSettingsFromEnv } from "@dispatcher/services.ts";
import { createWorkspace } from "@scripts/admin/provisioning.ts";
import { endOf } from "@scripts/local/child-process.ts";
import { DENO_RUN_FLAGS, denoExecutable } from "@scripts/local/deno.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { outboxSuite } from "../support/outbox-suite.ts";

const outbox = outboxSuite({ allowPrivateWebhookUrls: true });
const QUEUE = drainSettingsFromEnv({}, { resolveHost: nodeResolveHost, connect: nodeConnect });

async function workspace() {
  return (await createWorkspace(outbox.pdb.sql, { name: "isolation test", plan: "org" })).id;
}

/** An endpoint row as POST /v1/webhooks stores it. */
async function endpoint(workspaceId: string, url: string): Promise<string> {
  const [row] = await outbox.pdb.sql<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspaceId}, ${url}, '{campaign.created}', ${`whsec_${randomBytes(32).toString("base64")}`})
    returning id`;
  return row.id;
}

/** `count` events in the workspace, each delivered to every endpoint it has, through the outbox's own SQL. */
async function events(workspaceId: string, count: number): Promise<void> {
  await outbox.pdb.sql`
    select public.enqueue_webhook_event(${workspaceId}, 'campaign.created', json_build_object('n', g))
      from generate_series(1, ${count}::int) as g`;
}

async function attemptErrors(endpointId: string): Promise<(string | null)[]> {
  const rows = await outbox.pdb.sql<{ error: string | null }[]>`
    select error from public.webhook_attempts where endpoint_id = ${endpointId} order by id`;
  return rows.map((r) => r.error);
}

describe("isolation between endpoints and workspaces", () => {
  it("10 hanging endpoints across 5 workspaces do not delay a sixth workspace's healthy endpoint", async () => {
    const hanging = await outbox.receiver(() => "hang");
    const hangingEndpoints: string[] = [];
    for (let w = 0; w < 5; w++) {
      const ws = await workspace();
      for (let e = 0; e < 2; e++) hangingEndpoints.push(await endpoint(ws, `${hanging.url}/${w}/${e}`));
      await events(ws, 20);
    }
    const healthy = await outbox.receiver(() => ({ status: 200 }));
    const healthyWorkspace = await workspace();
    const healthyEndpoint = await endpoint(healthyWorkspace, healthy.url);
    // The contract's 10 s per attempt: every hanging attempt is still open while the healthy ones go out.
    const d = await outbox.dispatcher();

    await d.kick();
    await vi.waitFor(() => expect(hanging.received.length).toBeGreaterThanOrEqual(40), { timeout: 9_000 });
    for (let n = 1; n <= 10; n++) {
      await events(healthyWorkspace, 1);
      await d.kick();
      await vi.waitFor(() => expect(healthy.received).toHaveLength(n), { timeout: 9_000 });
    }

    // No hanging attempt has ended yet (none has timed out), so none of the healthy deliveries waited for one.
    const [{ ended }] = await outbox.pdb.sql<{ ended: number }[]>`
      select count(*)::int as ended from public.webhook_attempts where endpoint_id = any(${hangingEndpoints}::uuid[])`;
    expect(ended).toBe(0);
    expect(await attemptErrors(healthyEndpoint)).toEqual(Array(10).fill(null));
    // Each hanging endpoint holds exactly its in-flight limit; the rest of its deliveries wait unclaimed.
    const perEndpoint = new Map<string, number>();
    for (const { headers } of hanging.received) {
      const id = String(headers["x-leadlex-delivery-id"]);
      const [row] = await outbox.pdb.sql<{ endpoint_id: string }[]>`
        select endpoint_id from public.webhook_deliveries where id = ${id}`;
      perEndpoint.set(row.endpoint_id, (perEndpoint.get(row.endpoint_id) ?? 0) + 1);
    }
    expect([...perEndpoint.values()]).toEqual(Array(10).fill(QUEUE.inFlight.endpointConcurrency));
  });

  it("serves workspaces in turns: one workspace's backlog does not starve another's delivery", async () => {
    const receiver = await outbox.receiver();
    const busy = await workspace();
    for (let e = 0; e < 4; e++) await endpoint(busy, `${receiver.url}/busy/${e}`);
    await events(busy, 50); // 200 deliveries, all older than the quiet workspace's one
    const quiet = await workspace();
    const quietEndpoint = await endpoint(quiet, `${receiver.url}/quiet`);
    await events(quiet, 1);

    const claim = await claimDeliveries(outbox.dispatcherDb, 4, QUEUE);
    expect(claim.deliveries).toHaveLength(4);
    expect(claim.deliveries.filter((d) => d.endpoint_id === quietEndpoint)).toHaveLength(1);
    expect(claim.more_due).toBe(true);
  });

  it("backs off an endpoint that keeps failing as a whole, probes it one attempt at a time, and closes on success", async () => {
    let up = false;
    const receiver = await outbox.receiver(() => ({ status: up ? 200 : 500 }));
    const t = await outbox.tenant();
    const id = await endpoint(t.workspaceId, receiver.url);
    await events(t.workspaceId, 8);
    const d = await outbox.dispatcher({ env: { WEBHOOK_RETRY_DELAYS: "0,0,0,0,0" } });

    await d.drain();
    // Failures until the fifth in a row opened the circuit, plus the attempts already in flight then.
    const before = receiver.received.length;
    expect(before).toBeGreaterThanOrEqual(QUEUE.circuit.after);
    expect(before).toBeLessThanOrEqual(QUEUE.circuit.after + QUEUE.inFlight.endpointConcurrency - 1);
    expect(await d.drain()).toMatchObject({ claimed: 0 });
    expect(receiver.received).toHaveLength(before);

    const [open] = await outbox.pdb.sql<{ until: Date; opens: number }[]>`
      select circuit_open_until as until, circuit_opens as opens from public.webhook_endpoints where id = ${id}`;
    expect(open.opens).toBe(1);
    // The deliveries say why they wait, and when they go again; their attempts are untouched.
    const res = await t.api(`/webhooks/${id}/deliveries?status=pending`);
    const waiting = res.body.data.deliveries as { waiting_on: string; next_attempt_at: string }[];
    expect(waiting).toHaveLength(8);
    for (const delivery of waiting) {
      expect(delivery.waiting_on).toBe("endpoint_backoff");
      expect(Date.parse(delivery.next_attempt_at)).toBeGreaterThanOrEqual(
        Math.floor(open.until.getTime() / 1000) * 1000,
      );
    }

    // Past the open interval (moved back here instead of waited for), one probe; its failure doubles the interval.
    const reopen = () =>
      outbox.pdb.sql`
      update public.webhook_endpoints set circuit_open_until = now() - interval '1 second' where id = ${id}`;
    await reopen();
    expect(await d.drain()).toMatchObject({ claimed: 1, rescheduled: 1 });
    const [again] = await outbox.pdb.sql<{ opens: number; seconds: number }[]>`
      select circuit_opens as opens, extract(epoch from circuit_open_until - now())::float8 as seconds
        from public.webhook_endpoints where id = ${id}`;
    expect(again.opens).toBe(2);
    expect(again.seconds).toBeGreaterThan(QUEUE.circuit.baseSeconds);
    expect(again.seconds).toBeLessThanOrEqual(2 * QUEUE.circuit.baseSeconds);

    // The receiver recovers: the probe succeeds, the circuit closes, and the rest go out.
    up = true;
    await reopen();
    await d.drain();
    await d.settled();
    const [closed] = await outbox.pdb.sql<{ failures: number; until: Date | null }[]>`
      select consecutive_failures as failures, circuit_open_until as until from public.webhook_endpoints where id = ${id}`;
    expect(closed).toEqual({ failures: 0, until: null });
    const statuses = await outbox.pdb.sql<{ status: string }[]>`
      select status from public.webhook_deliveries where endpoint_id = ${id}`;
    expect(statuses.map((s) => s.status)).toEqual(Array(8).fill("success"));
  });
});

describe("a delivery whose worker dies on every attempt", () => {
  it("is recorded as lost each time and ends failed after the bound, sent no more than that", async () => {
    const receiver = await outbox.receiver(() => "hang");
    const ws = await workspace();
    const id = await endpoint(ws, receiver.url);
    await events(ws, 1);
    const [delivery] = await outbox.pdb.sql<{ id: string }[]>`
      select id from public.webhook_deliveries where endpoint_id = ${id}`;

    // A real Deno dispatcher, killed once its attempt is on the wire: nothing is recorded, the lease stays.
    for (let run = 1; run <= QUEUE.maxLostAttempts; run++) {
      const worker = spawn(denoExecutable(), [...DENO_RUN_FLAGS, "tests/support/deno-drain.ts"], {
        cwd: PROJECT_ROOT,
        stdio: "ignore",
        env: {
          ...process.env,
          DATABASE_URL: outbox.pdb.url,
          DISPATCHER_SECRET: "deno-drain-secret",
          WEBHOOK_ALLOW_PRIVATE_URLS: "1",
          RESOLVER_ANSWERS: JSON.stringify([["127.0.0.1"]]),
        },
      });
      await vi.waitFor(() => expect(receiver.received).toHaveLength(run), { timeout: 30_000 });
      worker.kill("SIGKILL");
      await endOf(worker);
      // The lease runs out (moved back here instead of waited for).
      await outbox.pdb.sql`update public.webhook_deliveries set lease_expires_at = now() - interval '1 second'
                            where id = ${delivery.id} and lease_expires_at is not null`;
    }
    const d = await outbox.dispatcher();
    expect(await d.drain()).toMatchObject({ lost: 1, claimed: 0 });

    const [row] = await outbox.pdb.sql<{ status: string; lost_attempts: number }[]>`
      select status, lost_attempts from public.webhook_deliveries where id = ${delivery.id}`;
    expect(row).toEqual({ status: "failed", lost_attempts: QUEUE.maxLostAttempts });
    expect(await attemptErrors(id)).toEqual(Array(QUEUE.maxLostAttempts).fill("attempt_lost"));
    expect(receiver.received).toHaveLength(QUEUE.maxLostAttempts);
    expect(d.logs.find((l) => l.msg === "webhook attempts lost")).toMatchObject({ lost: 1 });
  });
});
