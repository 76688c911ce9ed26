// Database round trips per request, counted at the seam: an authenticated request is one call (gateway_request
// resolves, counts, checks the permission and runs the operation), whatever its answer; a malformed key is none.
// The exception: a webhook write whose URL names a host asks gateway_preflight first, so that the host is looked up
// only for an admitted key.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "@shared/db/database.ts";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { generateApiKey } from "@shared/auth/api-key.ts";
import { databaseUrl, insertCampaign, newTenant, type TestTenant } from "../support/fixtures.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { setCounter } from "../support/rate-limit.ts";

let real: PostgresDatabase;
let gateway: RunningGateway;
let tenant: TestTenant;
let reader: TestTenant;
const calls: string[] = [];

/** The database as the gateway sees it, with the name of every RPC it calls written down. */
const counting: Database = { rpc: (name, args) => (calls.push(name), real.rpc(name, args)) };

beforeAll(async () => {
  real = createPostgresDatabase(databaseUrl(), { maxConnections: 2 });
  gateway = await startGateway({ db: counting });
  tenant = await newTenant({ plan: "org", tier: "standard" });
  reader = await newTenant({ plan: "org", tier: "standard", permissions: ["campaigns:read"] });
});
afterAll(async () => {
  await gateway?.close();
  await real?.close();
});

/** The request's answer and the database calls it made. */
async function counted(path: string, init: Parameters<typeof call>[1] = {}) {
  calls.length = 0;
  const res = await call(`${gateway.url}${path}`, init);
  return { status: res.status, calls: [...calls] };
}

describe("database round trips per request", () => {
  it("one for every authenticated request, reads and writes, whatever the answer", async () => {
    const key = tenant.key;
    const campaign = await insertCampaign(tenant.workspaceId, { name: "Counted" });
    const seen = [
      await counted("/v1/campaigns", { key }),
      await counted(`/v1/campaigns/${campaign}`, { key }),
      await counted("/v1/campaigns", { method: "POST", key, body: { name: "One trip" } }),
      await counted(`/v1/campaigns/${campaign}`, { method: "PATCH", key, body: { name: "Renamed" } }),
      await counted(`/v1/campaigns/${campaign}/start`, { method: "POST", key }),
      await counted(`/v1/campaigns/${crypto.randomUUID()}`, { method: "DELETE", key }),
      await counted("/v1/campaigns/not-a-uuid", { key }),
      await counted("/v1/campaigns", { method: "POST", key, body: { colour: "red" } }),
      await counted("/v1/webhooks", { key }),
      await counted("/v1/api-keys", { key }),
      await counted("/v1/campaigns", { method: "POST", key: reader.key, body: { name: "x" } }),
      await counted("/v1/campaigns", { key: generateApiKey().key }),
    ];
    expect(seen.map((s) => s.status)).toEqual([200, 200, 201, 200, 200, 404, 404, 400, 200, 200, 403, 401]);
    for (const s of seen) expect(s.calls).toEqual(["gateway_request"]);
  });

  it("one for a request refused with 429, before its operation", async () => {
    await setCounter(tenant.workspaceId, { day: 10_000 });
    try {
      const res = await counted("/v1/campaigns", { method: "POST", key: tenant.key, body: { name: "Refused" } });
      expect(res).toEqual({ status: 429, calls: ["gateway_request"] });
    } finally {
      await setCounter(tenant.workspaceId, { day: 0 });
    }
  });

  it("a webhook write with a host name: two (preflight, then the request), and no DNS lookup for a key not admitted", async () => {
    const lookups: string[] = [];
    const spied = await startGateway({
      db: counting,
      resolveHost: (host) => {
        lookups.push(host);
        return Promise.resolve(host === "internal.example.com" ? ["10.0.0.7"] : ["93.184.215.14"]);
      },
    });
    const post = async (key: string, url: string) => {
      calls.length = 0;
      lookups.length = 0;
      const res = await call(`${spied.url}/v1/webhooks`, {
        method: "POST",
        key,
        body: { url, events: ["campaign.created"] },
      });
      return { status: res.status, code: res.body?.error?.code, calls: [...calls], lookups: [...lookups] };
    };
    try {
      const trips = ["gateway_preflight", "gateway_request"];
      expect(await post(tenant.key, "https://hooks.example.com/in"))
        .toEqual({ status: 201, code: undefined, calls: trips, lookups: ["hooks.example.com"] });
      expect(await post(tenant.key, "https://internal.example.com/in"))
        .toEqual({ status: 400, code: "invalid_url", calls: trips, lookups: ["internal.example.com"] });
      // A forged key with a valid checksum: the preflight's 401 is the answer, and no name was looked up.
      expect(await post(generateApiKey().key, "https://attacker-chosen.example.com/in"))
        .toEqual({ status: 401, code: "invalid_key", calls: ["gateway_preflight"], lookups: [] });
      expect(await post(reader.key, "https://attacker-chosen.example.com/in"))
        .toEqual({ status: 403, code: "insufficient_permissions", calls: trips, lookups: [] });
      // Nothing to resolve (an IP literal, or a URL refused on its face): one, as for every other request.
      expect(await post(tenant.key, "https://93.184.215.15/in"))
        .toEqual({ status: 201, code: undefined, calls: ["gateway_request"], lookups: [] });
      expect(await post(generateApiKey().key, "http://plain.example.com/in"))
        .toEqual({ status: 401, code: "invalid_key", calls: ["gateway_request"], lookups: [] });
    } finally {
      await spied.close();
    }
  });

  it("a webhook write by a key over its rate limit looks nothing up, and is answered 429", async () => {
    const lookups: string[] = [];
    const spied = await startGateway({
      db: counting,
      resolveHost: (host) => Promise.resolve((lookups.push(host), ["93.184.215.14"])),
    });
    await setCounter(tenant.workspaceId, { day: 10_000 });
    try {
      calls.length = 0;
      const res = await call(`${spied.url}/v1/webhooks`, {
        method: "POST",
        key: tenant.key,
        body: { url: "https://limited.example.com/in", events: ["campaign.created"] },
      });
      expect([res.status, res.body.error.code, calls, lookups])
        .toEqual([429, "rate_limited", ["gateway_preflight", "gateway_request"], []]);
    } finally {
      await setCounter(tenant.workspaceId, { day: 0 });
      await spied.close();
    }
  });

  it("one for a write with an Idempotency-Key, first or replayed, reused or malformed", async () => {
    const key = crypto.randomUUID();
    const post = (body: object, idempotencyKey: string) =>
      counted("/v1/campaigns", {
        method: "POST",
        key: tenant.key,
        body,
        headers: { "Idempotency-Key": idempotencyKey },
      });
    expect(await post({ name: "Once" }, key)).toEqual({ status: 201, calls: ["gateway_request"] });
    expect(await post({ name: "Once" }, key)).toEqual({ status: 201, calls: ["gateway_request"] });
    expect(await post({ name: "Other" }, key)).toEqual({ status: 422, calls: ["gateway_request"] });
    expect(await post({ name: "Once" }, "not visible ascii")).toEqual({ status: 400, calls: ["gateway_request"] });
  });

  it("none for a malformed key or no key; one for health", async () => {
    expect(await counted("/v1/campaigns", { key: "wbk_garbage" })).toEqual({ status: 401, calls: [] });
    expect(await counted("/v1/campaigns")).toEqual({ status: 401, calls: [] });
    expect(await counted("/health")).toEqual({ status: 200, calls: ["health_check"] });
  });
});
