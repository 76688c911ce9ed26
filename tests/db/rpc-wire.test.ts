// Every catalogued RPC over the production seam: the gateway and the dispatcher, built on postgrest-js, talk to
// the PostgREST stand-in (tests/support/postgrest-stand-in.ts, the suite's one fake, which runs each call as
// service_role), on a database of its own bootstrapped with today's hosted defaults. One customer's session
// touches every route and has a webhook delivered, failed, retried and delivered to a receiver on loopback.
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RPC_NAMES } from "@shared/db/rpc-catalogue.ts";
import { createSupabaseDatabase } from "@shared/db/supabase-database.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { type RunningDispatcher, startDispatcher } from "../support/dispatcher.ts";
import { ALL_PERMISSIONS } from "../support/fixtures.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { type PostgrestStandIn, startPostgrestStandIn } from "../support/postgrest-stand-in.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";
import { type RunningReceiver, startReceiver } from "../support/webhook-receiver.ts";

const SECRET_KEY = "sb_secret_wire00000000000000000000000000";

let pdb: PrivateDatabase;
let standIn: PostgrestStandIn;
let gateway: RunningGateway;
let dispatcher: RunningDispatcher;
let receiver: RunningReceiver;
let key: string;
let seam: ReturnType<typeof createSupabaseDatabase>;

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  standIn = await startPostgrestStandIn({ databaseUrl: pdb.url, key: SECRET_KEY });
  seam = createSupabaseDatabase(standIn.url, SECRET_KEY);
  gateway = await startGateway({ db: seam, allowPrivateWebhookUrls: true });
  // No retries: the receiver's one failure is final, so it can be retried through the API.
  dispatcher = await startDispatcher({ db: seam, settings: { retryDelaysSeconds: [] } });
  receiver = await startReceiver((_, index) => (index === 0 ? { status: 500, body: "try later" } : { status: 200 }));
  const workspace = await createWorkspace(pdb.sql, { name: "wire", plan: "org" });
  // Metered, so every request writes the rate-limit counters through the seam too.
  key =
    (await createApiKey(pdb.sql, { workspaceId: workspace.id, permissions: ALL_PERMISSIONS, tier: "standard" })).key;
});
afterAll(async () => {
  await Promise.all([gateway?.close(), dispatcher?.close(), receiver?.close()]);
  await standIn?.close();
  await pdb?.drop();
});

const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
  call(`${gateway.url}${path}`, { ...init, key });

describe("through postgrest-js and PostgREST, as service_role on hosted defaults", () => {
  it("a session over every route and a webhook delivery sends every catalogued RPC, each answered 200", async () => {
    expect((await call(`${gateway.url}/health`)).status).toBe(200);

    const created = await api("/v1/webhooks", {
      method: "POST",
      body: {
        url: receiver.url,
        events: ["campaign.created", "campaign.started", "campaign.paused", "campaign.deleted"],
      },
    });
    expect(created.status).toBe(201);
    const { id: hook, secret } = created.body.data.webhook;
    expect((await api("/v1/webhooks")).body.data.webhooks).toMatchObject([{ id: hook }]);
    expect((await api(`/v1/webhooks/${hook}`)).body.data.webhook.id).toBe(hook);
    const patched = await api(`/v1/webhooks/${hook}`, { method: "PATCH", body: { description: "wire" } });
    expect(patched.body.data.webhook.description).toBe("wire");
    // A URL naming a host: gateway_preflight goes first; then back to the receiver's own address.
    const named = await api(`/v1/webhooks/${hook}`, {
      method: "PATCH",
      body: { url: receiver.url.replace("127.0.0.1", "localhost") },
    });
    expect(named.body.data.webhook.url).toContain("//localhost:");
    expect((await api(`/v1/webhooks/${hook}`, { method: "PATCH", body: { url: receiver.url } })).status).toBe(200);

    const campaign = (await api("/v1/campaigns", { method: "POST", body: { name: "Wire" } })).body.data.campaign;
    expect((await api("/v1/campaigns")).body.data.campaigns).toMatchObject([{ id: campaign.id }]);
    expect((await api(`/v1/campaigns/${campaign.id}`)).body.data.campaign.name).toBe("Wire");
    expect((await api(`/v1/campaigns/${campaign.id}`, { method: "PATCH", body: { name: "Wired" } })).status).toBe(200);
    expect((await api(`/v1/campaigns/${campaign.id}/start`, { method: "POST" })).body.data.status).toBe("active");
    expect((await api(`/v1/campaigns/${campaign.id}/pause`, { method: "POST" })).body.data.campaign.status).toBe(
      "paused",
    );
    const draft = (await api("/v1/campaigns", { method: "POST", body: { name: "Gone" } })).body.data.campaign;
    expect((await api(`/v1/campaigns/${draft.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await api(`/v1/webhooks/${hook}/test`, { method: "POST" })).status).toBe(202);

    // created, started, paused, created, deleted, and the test event: the first one sent fails for good.
    expect(await dispatcher.drain()).toMatchObject({ claimed: 6, delivered: 5, failed: 1 });
    const { logs } = (await api(`/v1/webhooks/${hook}/logs?status=failed`)).body.data;
    expect(logs).toMatchObject([{ status: "failed", status_code: 500, response_body: "try later" }]);
    const failed = (await api(`/v1/webhooks/${hook}/deliveries?status=failed`)).body.data.deliveries;
    expect(failed).toMatchObject([{ delivery_id: logs[0].delivery_id, attempts: 1, last_status_code: 500 }]);
    const viewed = (await api(`/v1/webhooks/${hook}/deliveries/${logs[0].delivery_id}`)).body.data;
    expect(viewed.attempts).toMatchObject([{ status: "failed", status_code: 500 }]);
    const recoverable = await api(`/v1/webhooks/${hook}/recover`, {
      method: "POST",
      body: { since: "2026-01-01T00:00:00Z", dry_run: true },
    });
    expect(recoverable.body).toEqual({ data: { count: 1, has_more: false } });
    const retried = await api(`/v1/webhooks/${hook}/deliveries/${logs[0].delivery_id}/retry`, { method: "POST" });
    expect(retried.status).toBe(202);
    expect(await dispatcher.drain()).toMatchObject({ claimed: 1, delivered: 1 });

    // Seven requests, six deliveries, each signed with the endpoint's secret.
    expect(receiver.received).toHaveLength(7);
    expect([...receiver.countsById().values()].sort()).toEqual([1, 1, 1, 1, 1, 2]);
    for (const { headers, body } of receiver.received) {
      const signed = new Webhook(secret).verify(body, {
        "webhook-id": String(headers["webhook-id"]),
        "webhook-timestamp": String(headers["webhook-timestamp"]),
        "webhook-signature": String(headers["webhook-signature"]),
      });
      expect(signed).toMatchObject({ delivery_id: headers["webhook-id"] });
    }

    const minted = await api("/v1/api-keys", {
      method: "POST",
      body: { name: "reader", permissions: ["campaigns:read"] },
    });
    expect(minted.status).toBe(201);
    expect((await api("/v1/api-keys")).body.data.api_keys).toHaveLength(2);
    expect((await api(`/v1/api-keys/${minted.body.data.api_key.id}`, { method: "DELETE" })).status).toBe(204);
    const rotated = await api(`/v1/webhooks/${hook}/rotate-secret`, { method: "POST", body: { overlap_seconds: 60 } });
    expect(rotated.body.data.webhook.secret).not.toBe(secret);
    expect((await api(`/v1/webhooks/${hook}`, { method: "DELETE" })).status).toBe(200);
    // Retention, as a hosted project could run it over the Data API: keeping 0 days, all finished history goes.
    expect(await seam.rpc("prune_webhook_history", { p_keep_days: 0, p_batch: 5000, p_rounds: 4 }))
      .toEqual({ attempts: 7, deliveries: 6, events: 6 });

    expect(await seam.rpc("prune_idempotency_keys", { p_batch: 5000, p_rounds: 4 })).toEqual({ idempotency_keys: 0 });
    // The gateway's former first call, which the benchmark's two-call baseline still makes.
    expect(await seam.rpc("resolve_api_key", { p_key_hash: "00".repeat(32) })).toEqual({ outcome: "invalid_key" });

    expect(standIn.problems).toEqual([]);
    const answered = standIn.requests.filter((r) => r.status !== 200).map((r) => `${r.path}: ${r.status}`);
    expect(answered).toEqual([]);
    // The gateway's operations travel inside gateway_request, named by p_rpc.
    const sent = new Set(standIn.requests.flatMap((r) => {
      const name = r.path.replace("/rest/v1/rpc/", "");
      return name === "gateway_request" ? [name, JSON.parse(r.body).p_rpc ?? name] : [name];
    }));
    expect([...sent].sort()).toEqual([...RPC_NAMES].sort());
  });
});
