// The document's `webhooks` section against what receivers really get: every event the gateway can cause,
// delivered by the real dispatcher to a real receiver, must match the payload schema and the signature headers
// documented for it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { SUBSCRIBABLE_EVENTS, TEST_EVENT } from "@shared/webhooks/events.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { checkWebhookDelivery } from "../support/conformance.ts";
import { type RunningDispatcher, startDispatcher } from "../support/dispatcher.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { createPrivateDatabase, type PrivateDatabase } from "../support/private-database.ts";
import { type RunningReceiver, startReceiver } from "../support/webhook-receiver.ts";

// The dispatcher drains the whole outbox, so this suite has a database of its own.
let pdb: PrivateDatabase;
let db: PostgresDatabase;
let gateway: RunningGateway;
let dispatcher: RunningDispatcher;
let receiver: RunningReceiver;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  pdb = await createPrivateDatabase();
  db = createPostgresDatabase(pdb.url);
  gateway = await startGateway({ db, allowPrivateWebhookUrls: true });
  dispatcher = await startDispatcher({ db });
  receiver = await startReceiver();
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await receiver?.close();
  await dispatcher?.close();
  await gateway?.close();
  await db?.close();
  await pdb?.drop();
});

it("every event a receiver gets matches its payload and headers in the document's webhooks section", async () => {
  const workspace = await createWorkspace(pdb.sql, { name: "payloads", plan: "org" });
  const { key } = await createApiKey(pdb.sql, {
    workspaceId: workspace.id,
    permissions: ["campaigns:write", "webhooks:write"],
    tier: "unmetered",
  });
  const send = (method: string, path: string, body?: unknown) => call(`${gateway.url}${path}`, { method, key, body });

  const hook = await send("POST", "/v1/webhooks", { url: receiver.url, events: [...SUBSCRIBABLE_EVENTS] });
  expect(hook.status).toBe(201);
  // An endpoint that answers 410 Gone is disabled at its first delivery, which tells the other endpoint.
  const gone = await startReceiver(() => ({ status: 410, body: "gone" }));
  cleanups.push(() => gone.close());
  expect((await send("POST", "/v1/webhooks", { url: gone.url, events: ["campaign.created"] })).status).toBe(201);
  const started = (await send("POST", "/v1/campaigns", { name: "started, then paused" })).body.data.campaign.id;
  expect((await send("POST", `/v1/campaigns/${started}/start`)).status).toBe(200);
  expect((await send("POST", `/v1/campaigns/${started}/pause`)).status).toBe(200);
  const deleted = (await send("POST", "/v1/campaigns", { name: "deleted", description: null })).body.data.campaign.id;
  expect((await send("DELETE", `/v1/campaigns/${deleted}`)).status).toBe(200);
  expect((await send("POST", `/v1/webhooks/${hook.body.data.webhook.id}/test`)).status).toBe(202);

  // created x2, started, paused, deleted, webhook.test, webhook.endpoint_disabled
  for (let round = 0; round < 20 && receiver.received.length < 7; round++) await dispatcher.drain();
  expect(receiver.received).toHaveLength(7);
  for (const delivery of receiver.received) checkWebhookDelivery(delivery);
  const bodies = receiver.received.map(({ body }) => JSON.parse(body));
  expect(new Set(bodies.map((b) => b.event))).toEqual(new Set([...SUBSCRIBABLE_EVENTS, TEST_EVENT]));
});
