// Idempotency-Key on the writes: a retry after a lost response gets the original answer and changes nothing;
// concurrent requests with one key run the operation once; a key reused for another request is refused; a request
// refused before its operation stores nothing; a key is remembered 24 hours, then forgotten and pruned.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "@shared/db/database.ts";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { DatabaseUnavailableError } from "@shared/db/unavailable.ts";
import { generateApiKey } from "@shared/auth/api-key.ts";
import { createApiKey } from "@scripts/admin/provisioning.ts";
import { pruneIdempotencyKeys } from "@scripts/local/retention.ts";
import { type ApiResponse, expectError, statusCounts } from "../support/assertions.ts";
import {
  ALL_PERMISSIONS,
  databaseUrl,
  db,
  eventsOf,
  insertCampaign,
  insertEndpoint,
  newKey,
  newTenant,
  type TestTenant,
} from "../support/fixtures.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { setCounter } from "../support/rate-limit.ts";

let real: PostgresDatabase;
let gateway: RunningGateway;
/** When set, the next gateway_request commits and then its answer is lost, as when the 5 s timeout fires late. */
let dropNextAnswer = false;

beforeAll(async () => {
  real = createPostgresDatabase(databaseUrl(), { maxConnections: 20 });
  const dropping: Database = {
    async rpc(name, args) {
      const result = await real.rpc(name, args);
      if (dropNextAnswer && name === "gateway_request") {
        dropNextAnswer = false;
        throw new DatabaseUnavailableError("rpc gateway_request: no answer within 5000 ms");
      }
      return result;
    },
  };
  gateway = await startGateway({ db: dropping });
});
afterAll(async () => {
  await gateway?.close();
  await real?.close();
});

type Init = { method?: string; body?: unknown; key?: string; idempotencyKey?: string };
const send = (t: TestTenant, path: string, init: Init = {}) =>
  call(`${gateway.url}${path}`, {
    method: init.method ?? "POST",
    key: init.key ?? t.key,
    body: init.body,
    headers: init.idempotencyKey === undefined ? {} : { "Idempotency-Key": init.idempotencyKey },
  });

const replayed = (res: ApiResponse) => res.headers.get("idempotent-replayed");

async function campaignCount(workspaceId: string): Promise<number> {
  const [{ n }] = await db()<{ n: number }[]>`
    select count(*)::int as n from public.campaigns where workspace_id = ${workspaceId}`;
  return n;
}

async function storedKeys(workspaceId: string): Promise<number> {
  const [{ n }] = await db()<{ n: number }[]>`
    select count(*)::int as n from public.idempotency_keys where workspace_id = ${workspaceId}`;
  return n;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest();

describe("a response lost after the commit, retried with the same key", () => {
  it("create: the retry gets the original 201; one campaign, one event, one delivery", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    await insertEndpoint(t.workspaceId, ["campaign.created"]);
    const key = crypto.randomUUID();
    dropNextAnswer = true;
    const lost = await send(t, "/v1/campaigns", { body: { name: "Once" }, idempotencyKey: key });
    expectError(lost, 503, "service_unavailable");

    const retry = await send(t, "/v1/campaigns", { body: { name: "Once" }, idempotencyKey: key });
    expect(retry.status).toBe(201);
    expect(replayed(retry)).toBe("true");
    const [{ id }] = await db()<
      { id: string }[]
    >`select id from public.campaigns where workspace_id = ${t.workspaceId}`;
    expect(retry.body.data.campaign).toMatchObject({ id, name: "Once", status: "draft" });
    expect(await campaignCount(t.workspaceId)).toBe(1);
    expect((await eventsOf(t.workspaceId)).map((e) => [e.event, e.deliveries])).toEqual([["campaign.created", 1]]);
  });

  it("delete: the retry gets the original 200, not 404; one campaign.deleted event", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    await insertEndpoint(t.workspaceId, ["campaign.deleted"]);
    const id = await insertCampaign(t.workspaceId, { name: "Doomed" });
    const key = crypto.randomUUID();
    dropNextAnswer = true;
    expectError(
      await send(t, `/v1/campaigns/${id}`, { method: "DELETE", idempotencyKey: key }),
      503,
      "service_unavailable",
    );
    expect(await campaignCount(t.workspaceId)).toBe(0);

    const retry = await send(t, `/v1/campaigns/${id}`, { method: "DELETE", idempotencyKey: key });
    expect([retry.status, retry.body, replayed(retry)]).toEqual([200, { data: { deleted: true, id } }, "true"]);
    expect((await eventsOf(t.workspaceId)).map((e) => [e.event, e.deliveries])).toEqual([["campaign.deleted", 1]]);
    // Without the key, the same delete is a new request: the campaign is gone.
    expectError(await send(t, `/v1/campaigns/${id}`, { method: "DELETE" }), 404, "campaign_not_found");
  });
});

describe("a replay is the first answer, rendered by the same route from the stored result", () => {
  it("same status and byte-equal body for a create, an update, a delete, a 404 and a 409; only the replay is marked", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    const id = await insertCampaign(t.workspaceId, { name: "Kept" });
    const active = await insertCampaign(t.workspaceId, { name: "Live", status: "active" });
    const requests: [string, Init][] = [
      ["/v1/campaigns", { body: { name: "Created", daily_send_limit: 20 } }],
      [`/v1/campaigns/${id}`, { method: "PATCH", body: { description: "changed" } }],
      [`/v1/campaigns/${crypto.randomUUID()}`, { method: "DELETE" }],
      [`/v1/campaigns/${active}`, { method: "DELETE" }],
      [`/v1/campaigns/${id}`, { method: "DELETE" }],
    ];
    const statuses: number[] = [];
    for (const [path, init] of requests) {
      const key = crypto.randomUUID();
      const first = await send(t, path, { ...init, idempotencyKey: key });
      const again = await send(t, path, { ...init, idempotencyKey: key });
      expect([again.status, again.text], path).toEqual([first.status, first.text]);
      expect([replayed(first), replayed(again)], path).toEqual([null, "true"]);
      statuses.push(first.status);
    }
    expect(statuses).toEqual([201, 200, 404, 409, 200]);
    // The create ran once: "Live" and "Created" are left ("Kept" was deleted).
    expect(await campaignCount(t.workspaceId)).toBe(2);
  });

  it("a replay counts against the rate limit like any request", async () => {
    const t = await newTenant({ plan: "pro", tier: "standard" });
    const key = crypto.randomUUID();
    const first = await send(t, "/v1/campaigns", { body: { name: "Counted" }, idempotencyKey: key });
    const again = await send(t, "/v1/campaigns", { body: { name: "Counted" }, idempotencyKey: key });
    expect([first.headers.get("x-ratelimit-remaining"), again.headers.get("x-ratelimit-remaining")]).toEqual([
      "999",
      "998",
    ]);
  });

  it("a created API key: the replay shows the same key, which the database never holds in clear", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    const key = crypto.randomUUID();
    const body = { name: "ci", permissions: ["campaigns:read"] };
    const first = await send(t, "/v1/api-keys", { body, idempotencyKey: key });
    const again = await send(t, "/v1/api-keys", { body, idempotencyKey: key });
    expect(first.status).toBe(201);
    expect([again.status, again.text, replayed(again)]).toEqual([201, first.text, "true"]);
    const minted: string = first.body.data.api_key.key;
    const [row] = await db()<{ stored: string }[]>`
      select concat(result::text, sealed, encode(fingerprint, 'escape')) as stored
        from public.idempotency_keys where workspace_id = ${t.workspaceId} and key_hash = ${sha256(key)}`;
    expect(row.stored).not.toContain(minted);
    expect(row.stored).not.toContain(minted.slice(4));
    expect((await call(`${gateway.url}/v1/campaigns`, { key: minted })).status).toBe(200);
  });
});

describe("webhook secrets in a stored answer are sealed, like a new API key", () => {
  /** Everything the database keeps of an Idempotency-Key's answer, as text. */
  async function storedText(workspaceId: string, key: string) {
    const [row] = await db()<{ stored: string }[]>`
      select concat(result::text, sealed) as stored
        from public.idempotency_keys where workspace_id = ${workspaceId} and key_hash = ${sha256(key)}`;
    return row.stored;
  }

  it("create and rotate-secret: the replay shows the same secret, which idempotency_keys never holds in clear", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    const createKey = crypto.randomUUID();
    const body = { url: "https://93.184.215.14/sealed", events: ["campaign.created"] };
    const created = await send(t, "/v1/webhooks", { body, idempotencyKey: createKey });
    const createdAgain = await send(t, "/v1/webhooks", { body, idempotencyKey: createKey });
    expect(created.status).toBe(201);
    const secret: string = created.body.data.webhook.secret;
    expect(secret).toMatch(/^whsec_/);
    expect([createdAgain.status, createdAgain.body, replayed(createdAgain)]).toEqual([201, created.body, "true"]);

    const id: string = created.body.data.webhook.id;
    const rotateKey = crypto.randomUUID();
    const rotated = await send(t, `/v1/webhooks/${id}/rotate-secret`, {
      body: { overlap_seconds: 0 },
      idempotencyKey: rotateKey,
    });
    const rotatedAgain = await send(t, `/v1/webhooks/${id}/rotate-secret`, {
      body: { overlap_seconds: 0 },
      idempotencyKey: rotateKey,
    });
    const newSecret: string = rotated.body.data.webhook.secret;
    expect([rotated.status, newSecret]).toEqual([200, expect.stringMatching(/^whsec_/)]);
    expect([rotatedAgain.status, rotatedAgain.body, replayed(rotatedAgain)]).toEqual([200, rotated.body, "true"]);
    const [endpoint] = await db()<{ secret: string }[]>`select secret from public.webhook_endpoints where id = ${id}`;
    expect(endpoint.secret).toBe(newSecret);

    for (const [key, shown] of [[createKey, secret], [rotateKey, newSecret]]) {
      const stored = await storedText(t.workspaceId, key);
      expect(stored).not.toContain("whsec_");
      expect(stored).not.toContain(shown.slice("whsec_".length));
    }
  });
});

describe("one key, many requests", () => {
  it.each(["standard", "unmetered"] as const)(
    "16 concurrent requests with one key (%s key): the operation runs once, all 16 get its answer, 15 as replays",
    async (tier) => {
      const t = await newTenant({ plan: "org", tier });
      await insertEndpoint(t.workspaceId, ["campaign.created"]);
      const key = crypto.randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 16 }, () => send(t, "/v1/campaigns", { body: { name: "Racing" }, idempotencyKey: key })),
      );
      expect(statusCounts(answers)).toEqual({ 201: 16 });
      expect(new Set(answers.map((a) => a.text)).size).toBe(1);
      expect(answers.filter((a) => replayed(a) === "true")).toHaveLength(15);
      expect(await campaignCount(t.workspaceId)).toBe(1);
      expect(await eventsOf(t.workspaceId)).toHaveLength(1);
    },
  );

  it("422 idempotency_key_reused for the same key with another body, another id or another route; nothing runs", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    const id = await insertCampaign(t.workspaceId, { name: "Draft" });
    const key = crypto.randomUUID();
    expect((await send(t, "/v1/campaigns", { body: { name: "First" }, idempotencyKey: key })).status).toBe(201);
    const refused = [
      await send(t, "/v1/campaigns", { body: { name: "Second" }, idempotencyKey: key }),
      await send(t, `/v1/campaigns/${id}`, { method: "DELETE", idempotencyKey: key }),
      await send(t, `/v1/campaigns/${id}/start`, { idempotencyKey: key }),
    ];
    for (const res of refused) expectError(res, 422, "idempotency_key_reused");
    expect(await campaignCount(t.workspaceId)).toBe(2);
    const [{ status }] = await db()<{ status: string }[]>`select status from public.campaigns where id = ${id}`;
    expect(status).toBe("draft");
    // The same body with its keys in another order is the same request.
    const k2 = crypto.randomUUID();
    await send(t, "/v1/campaigns", { body: { name: "Ordered", daily_send_limit: 30 }, idempotencyKey: k2 });
    const reordered = await send(t, "/v1/campaigns", {
      body: { daily_send_limit: 30, name: "Ordered" },
      idempotencyKey: k2,
    });
    expect([reordered.status, replayed(reordered)]).toEqual([201, "true"]);
  });

  it("keys are scoped to the API key too: a weak key repeating a strong key's API-key creation gets 422, never the key", async () => {
    // Issue 17: S (high tier, every permission) mints a key; W (admin:api_keys and campaigns:read, standard) sends
    // the same request with the same Idempotency-Key.
    const strong = await newTenant({ plan: "org", tier: "high" });
    const weak = await createApiKey(db(), {
      workspaceId: strong.workspaceId,
      permissions: ["admin:api_keys", "campaigns:read"],
      tier: "standard",
    });
    const key = crypto.randomUUID();
    const body = { name: "mighty", permissions: [...ALL_PERMISSIONS], rate_limit_tier: "high" };
    const first = await send(strong, "/v1/api-keys", { body, idempotencyKey: key });
    expect(first.status).toBe(201);

    const replay = await send(strong, "/v1/api-keys", { body, idempotencyKey: key, key: weak.key });
    const error = expectError(replay, 422, "idempotency_key_reused");
    expect(error.message).toContain("another API key");
    expect(replay.text).not.toContain(first.body.data.api_key.key);
    expect(replayed(replay)).toBeNull();
    // Without the header the same request is refused by the bound, as before; nothing was created either way.
    expectError(await send(strong, "/v1/api-keys", { body, key: weak.key }), 403, "key_exceeds_caller");
    const [{ n }] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.api_keys where workspace_id = ${strong.workspaceId}`;
    expect(n).toBe(3);
    // The key that made it still gets its replay.
    const again = await send(strong, "/v1/api-keys", { body, idempotencyKey: key });
    expect([again.status, again.text, replayed(again)]).toEqual([201, first.text, "true"]);
  });

  it("another key with every permission repeating a campaign create gets 422, and nothing runs", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    const twin = await createApiKey(db(), {
      workspaceId: t.workspaceId,
      permissions: ALL_PERMISSIONS,
      tier: "standard",
    });
    const key = crypto.randomUUID();
    const first = await send(t, "/v1/campaigns", { body: { name: "Mine" }, idempotencyKey: key });
    const other = await send(t, "/v1/campaigns", { body: { name: "Mine" }, idempotencyKey: key, key: twin.key });
    expect(first.status).toBe(201);
    expectError(other, 422, "idempotency_key_reused");
    expect(await campaignCount(t.workspaceId)).toBe(1);
    const [row] = await db()<{ api_key_id: string }[]>`
      select api_key_id from public.idempotency_keys where workspace_id = ${t.workspaceId} and key_hash = ${
      sha256(key)
    }`;
    expect(row.api_key_id).toBe(t.keyId);
  });

  it("keys are scoped to the workspace: another workspace's request with the same key runs", async () => {
    const [a, b] = [await newTenant({ plan: "org" }), await newTenant({ plan: "org" })];
    const key = crypto.randomUUID();
    const first = await send(a, "/v1/campaigns", { body: { name: "Mine" }, idempotencyKey: key });
    const other = await send(b, "/v1/campaigns", { body: { name: "Mine" }, idempotencyKey: key });
    expect([first.status, other.status, replayed(other)]).toEqual([201, 201, null]);
    expect(other.body.data.campaign.id).not.toBe(first.body.data.campaign.id);
  });
});

describe("the header", () => {
  it("400 invalid_idempotency_key unless 1-255 visible ASCII characters, bare or quoted; nothing runs or is stored", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    for (const bad of ["", "two words", "x".repeat(256), "clé", '"unterminated', '"tab\tinside"', '""']) {
      const res = await send(t, "/v1/campaigns", { body: { name: "Refused" }, idempotencyKey: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expectError(res, 400, "invalid_idempotency_key");
    }
    expect(await campaignCount(t.workspaceId)).toBe(0);
    expect(await storedKeys(t.workspaceId)).toBe(0);
  });

  it("the quoted form names the same key as the bare one; 255 characters are fine", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    const key = `k-${"9".repeat(253)}`;
    const bare = await send(t, "/v1/campaigns", { body: { name: "Q" }, idempotencyKey: key });
    const quoted = await send(t, "/v1/campaigns", { body: { name: "Q" }, idempotencyKey: `"${key}"` });
    expect([bare.status, quoted.status, replayed(quoted), quoted.text]).toEqual([201, 201, "true", bare.text]);
    const escaped = await send(t, "/v1/campaigns", { body: { name: "E" }, idempotencyKey: '"a\\"b"' });
    const same = await send(t, "/v1/campaigns", { body: { name: "E" }, idempotencyKey: 'a"b' });
    expect([escaped.status, replayed(same)]).toEqual([201, "true"]);
  });
});

describe("refused before the operation: nothing stored", () => {
  it("401, 403, 429 and 400 store nothing, and the key still works afterwards", async () => {
    const t = await newTenant({ plan: "starter", tier: "standard" });
    const reader = await newKey(t, ["campaigns:read"], "standard");
    const key = crypto.randomUUID();
    const body = { name: "Later" };
    expectError(
      await send(t, "/v1/campaigns", { body, idempotencyKey: key, key: generateApiKey().key }),
      401,
      "invalid_key",
    );
    expectError(
      await send(t, "/v1/campaigns", { body, idempotencyKey: key, key: reader }),
      403,
      "insufficient_permissions",
    );
    expectError(
      await send(t, "/v1/campaigns", { body: { colour: "red" }, idempotencyKey: key }),
      400,
      "validation_error",
    );
    await setCounter(t.workspaceId, { day: 100 });
    expectError(await send(t, "/v1/campaigns", { body, idempotencyKey: key }), 429, "rate_limited");
    const [{ n }] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.idempotency_keys where key_hash = ${sha256(key)}`;
    expect(n).toBe(0);

    await setCounter(t.workspaceId, { day: 0 });
    const ran = await send(t, "/v1/campaigns", { body, idempotencyKey: key });
    expect([ran.status, replayed(ran)]).toEqual([201, null]);
    expect(await storedKeys(t.workspaceId)).toBe(1);
  });
});

describe("24 hours", () => {
  it("an expired key is never replayed: the request runs again; retention prunes expired keys only", async () => {
    const t = await newTenant({ plan: "org", tier: "standard" });
    const key = crypto.randomUUID();
    const first = await send(t, "/v1/campaigns", { body: { name: "Yesterday" }, idempotencyKey: key });
    await db()`
      update public.idempotency_keys set created_at = created_at - interval '25 hours'
       where workspace_id = ${t.workspaceId}`;
    const again = await send(t, "/v1/campaigns", { body: { name: "Yesterday" }, idempotencyKey: key });
    expect([first.status, again.status, replayed(again)]).toEqual([201, 201, null]);
    expect(again.body.data.campaign.id).not.toBe(first.body.data.campaign.id);
    expect(await campaignCount(t.workspaceId)).toBe(2);

    const old = crypto.randomUUID();
    await send(t, "/v1/campaigns", { body: { name: "Old" }, idempotencyKey: old });
    await db()`
      update public.idempotency_keys set created_at = now() - interval '25 hours'
       where workspace_id = ${t.workspaceId} and key_hash = ${sha256(old)}`;
    expect(await pruneIdempotencyKeys(db(), { keepDays: 30, batch: 5000, rounds: 4 })).toBeGreaterThanOrEqual(1);
    expect(await storedKeys(t.workspaceId)).toBe(1);
  });
});
