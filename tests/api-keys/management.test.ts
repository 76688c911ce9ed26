import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashApiKey } from "@shared/auth/api-key.ts";
import { type Permission, PERMISSIONS } from "@shared/auth/permissions.ts";
import { createPostgresDatabase } from "@shared/db/postgres-database.ts";
import { createApiKey } from "@scripts/admin/provisioning.ts";
import { expectError, expectFieldErrors, expectGatewayHeaders, ISO_UTC, statusCounts } from "../support/assertions.ts";
import { databaseUrl, db, newTenant, type TestTenant } from "../support/fixtures.ts";
import { call, gatewaySession, startGateway } from "../support/gateway.ts";
import { walkByCursor } from "../support/cursor-walk.ts";
import { lockWorkspaceRow, untilWaiting } from "../support/locks.ts";

const CREATED_FIELDS = [
  "created_at",
  "description",
  "expires_at",
  "id",
  "key",
  "name",
  "permissions",
  "prefix",
  "rate_limit_tier",
];
const LISTED_FIELDS = [
  "created_at",
  "description",
  "expires_at",
  "id",
  "last_used_at",
  "name",
  "permissions",
  "prefix",
  "rate_limit_tier",
  "revoked_at",
];

const s = gatewaySession();

/** A key made the operator's way; its id. */
async function insertKey(workspaceId: string, permissions: Permission[], name?: string): Promise<string> {
  return (await createApiKey(db(), { workspaceId, permissions, name, tier: "unmetered" })).id;
}

function apiKeys(path = "", init: Parameters<typeof call>[1] = {}) {
  return call(`${s.gateway.url}/v1/api-keys${path}`, { key: s.tenant.key, ...init });
}

const create = (body: unknown, t: TestTenant = s.tenant) => apiKeys("", { method: "POST", key: t.key, body });
const revoke = (id: string, key = s.tenant.key) => apiKeys(`/${id}`, { method: "DELETE", key });

async function createKey(body: Record<string, unknown>, t: TestTenant = s.tenant) {
  const res = await create({ name: `key ${crypto.randomUUID()}`, ...body }, t);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data.api_key as { id: string; key: string; prefix: string; [field: string]: unknown };
}

/** An admin key of the s.tenant's workspace besides its first one. */
const createAdminKey = (t: TestTenant) => createKey({ permissions: ["admin:api_keys"], rate_limit_tier: "high" }, t);

const expire = (id: string) =>
  db()`update public.api_keys set expires_at = now() - interval '1 second' where id = ${id}`;

async function revokedAt(id: string): Promise<Date | null> {
  const [row] = await db()<{ revoked_at: Date | null }[]>`select revoked_at from public.api_keys where id = ${id}`;
  return row.revoked_at;
}

describe("POST /v1/api-keys", () => {
  it("201 with the key, shown only here; the database keeps its SHA-256 hash and prefix, never the key", async () => {
    const res = await create({
      name: "CI deploys",
      description: "used by the pipeline",
      permissions: ["campaigns:read", "webhooks:write"],
      rate_limit_tier: "high",
      expires_at: "2099-01-01T02:00:00+02:00",
    });
    expect(res.status).toBe(201);
    expectGatewayHeaders(res);
    const apiKey = res.body.data.api_key;
    expect(Object.keys(res.body)).toEqual(["data"]);
    expect(Object.keys(apiKey).sort()).toEqual(CREATED_FIELDS);
    expect(apiKey).toMatchObject({
      name: "CI deploys",
      description: "used by the pipeline",
      permissions: ["campaigns:read", "webhooks:write"],
      rate_limit_tier: "high",
      expires_at: "2099-01-01T00:00:00.000Z",
    });
    expect(apiKey.key).toMatch(/^wbk_[0-9A-Za-z]{36}$/);
    expect(apiKey.prefix).toBe(apiKey.key.slice(0, 12));
    expect(apiKey.created_at).toMatch(ISO_UTC);

    const [row] = await db()`select encode(key_hash, 'hex') as hash, to_jsonb(k)::text as everything
                               from public.api_keys k where id = ${apiKey.id}`;
    expect(row.hash).toBe(createHash("sha256").update(apiKey.key).digest("hex"));
    expect(row.hash).toBe(hashApiKey(apiKey.key));
    expect(row.everything).not.toContain(apiKey.key.slice(12));

    const listed = await apiKeys("?include_revoked=true");
    expect(listed.text).toContain(apiKey.id);
    expect(listed.text).not.toContain(apiKey.key.slice(12));
    expect(listed.text).not.toContain(row.hash);
  });

  it("defaults: no description, no expiry, the standard tier; repeated permissions collapse", async () => {
    const apiKey = await createKey({ permissions: ["campaigns:read", "campaigns:read"], description: null });
    expect(apiKey).toMatchObject({
      description: null,
      expires_at: null,
      rate_limit_tier: "standard",
      permissions: ["campaigns:read"],
    });
  });

  it("the new key works at once, with exactly the permissions it was given and its tier", async () => {
    const campaigns = (key: string, method = "GET") =>
      call(`${s.gateway.url}/v1/campaigns`, { method, key, body: method === "POST" ? { name: "x" } : undefined });
    const reader = await createKey({ permissions: ["campaigns:read"] });

    const listed = await campaigns(reader.key);
    expect(listed.status).toBe(200);
    expect(listed.headers.get("x-ratelimit-limit")).toBe("10000"); // the org plan, standard tier
    expect(expectError(await campaigns(reader.key, "POST"), 403, "insufficient_permissions").message)
      .toBe("Missing required permission: campaigns:write");
    expect(expectError(await apiKeys("", { key: reader.key }), 403, "insufficient_permissions").message)
      .toBe("Missing required permission: admin:api_keys");
    const webhooks = await call(`${s.gateway.url}/v1/webhooks`, { key: reader.key });
    expectError(webhooks, 403, "insufficient_permissions");

    const high = await createKey({ permissions: ["campaigns:read"], rate_limit_tier: "high" });
    expect((await campaigns(high.key)).headers.get("x-ratelimit-limit")).toBe("100000");
  });

  it("a key with an expiry works until then, and is invalid_key after it", async () => {
    const apiKey = await createKey({ permissions: ["campaigns:read"], expires_at: "2099-06-01T00:00:00Z" });
    const campaigns = () => call(`${s.gateway.url}/v1/campaigns`, { key: apiKey.key });
    expect((await campaigns()).status).toBe(200);
    await expire(apiKey.id);
    expectError(await campaigns(), 401, "invalid_key");
  });

  it("accepts the longest name and description", async () => {
    const name = "n".repeat(120);
    const apiKey = await createKey({ name, description: "d".repeat(500), permissions: [...PERMISSIONS] });
    expect(apiKey).toMatchObject({ name, permissions: [...PERMISSIONS] });
  });

  it.each([
    {
      why: "an unknown permission",
      body: { permissions: ["campaigns:read", "campaigns:delete"] },
      fields: ["permissions"],
      says: 'Unknown permissions ["campaigns:delete"]',
    },
    { why: "no permissions", body: { permissions: [] }, fields: ["permissions"], says: PERMISSIONS.join(", ") },
    { why: "permissions as a string", body: { permissions: "campaigns:read" }, fields: ["permissions"] },
    { why: "missing permissions", body: { permissions: undefined }, fields: ["permissions"] },
    { why: "an empty name", body: { name: "" }, fields: ["name"], says: "Must be 1 to 120 characters" },
    {
      why: "a name of 121 characters",
      body: { name: "n".repeat(121) },
      fields: ["name"],
      says: "Must be 1 to 120 characters",
    },
    { why: "a missing name", body: { name: undefined }, fields: ["name"] },
    { why: "a name that is not a string", body: { name: 7 }, fields: ["name"] },
    { why: "a description of 501 characters", body: { description: "d".repeat(501) }, fields: ["description"] },
    {
      why: "an unknown tier",
      body: { rate_limit_tier: "gold" },
      fields: ["rate_limit_tier"],
      says: "standard, high, unmetered",
    },
    {
      why: "an expiry in the past",
      body: { expires_at: "2020-01-01T00:00:00Z" },
      fields: ["expires_at"],
      says: "in the future",
    },
    {
      why: "an expiry without a zone",
      body: { expires_at: "2099-01-01T00:00:00" },
      fields: ["expires_at"],
      says: "ISO 8601",
    },
    {
      why: "an expiry that is no time",
      body: { expires_at: "next tuesday" },
      fields: ["expires_at"],
      says: "ISO 8601",
    },
    { why: "an expiry as a number", body: { expires_at: 4102444800 }, fields: ["expires_at"] },
    {
      why: "an expiry on a day February lacks",
      body: { expires_at: "2027-02-30" },
      fields: ["expires_at"],
      says: "ISO 8601",
    },
    {
      why: "an expiry on April 31",
      body: { expires_at: "2099-04-31T10:00:00Z" },
      fields: ["expires_at"],
      says: "ISO 8601",
    },
    {
      why: "an expiry at 24:00",
      body: { expires_at: "2099-01-01T24:00:00Z" },
      fields: ["expires_at"],
      says: "ISO 8601",
    },
    {
      why: "an expiry with an offset of 25 hours",
      body: { expires_at: "2099-01-01T10:00:00+25:00" },
      fields: ["expires_at"],
    },
    { why: "a key of one's own choosing", body: { key: "wbk_mine" }, fields: ["key"], says: "Unknown field" },
    { why: "a prefix", body: { prefix: "wbk_mine" }, fields: ["prefix"] },
    {
      why: "several problems at once",
      body: { name: "", permissions: ["root"], colour: "red" },
      fields: ["name", "permissions", "colour"],
    },
  ])("400 validation_error for $why", async ({ body, fields, says }) => {
    const t = await newTenant();
    const res = await create({ name: "refused", permissions: ["campaigns:read"], ...body }, t);
    const problems = expectFieldErrors(res, fields);
    expect(res.body.error.message).toBe("Invalid API key");
    if (says) expect(Object.values(problems).join(" ")).toContain(says);
    expect(await db()`select 1 from public.api_keys where workspace_id = ${t.workspaceId}`).toHaveLength(1);
  });

  it("a leap day is a real date", async () => {
    expect((await createKey({ permissions: ["campaigns:read"], expires_at: "2096-02-29" })).expires_at)
      .toBe("2096-02-29T00:00:00.000Z");
  });

  it("400 names unknown fields called like Object.prototype's members", async () => {
    const body = '{"name":"x","permissions":["campaigns:read"],"constructor":1,"toString":2,"__proto__":3}';
    const problems = expectFieldErrors(await create(body), ["constructor", "toString", "__proto__"]);
    expect(Object.values(problems)).toEqual(["Unknown field", "Unknown field", "Unknown field"]);
  });

  it("400 validation_error for a body that is not an object", async () => {
    for (const body of [[], "null", JSON.stringify("key")]) expectFieldErrors(await create(body), ["body"]);
  });

  it("409 duplicate_name while an active key of this workspace (not another) has the name", async () => {
    const name = `deploys ${crypto.randomUUID()}`;
    await createKey({ name, permissions: ["campaigns:read"] });
    const error = expectError(await create({ name, permissions: ["webhooks:read"] }), 409, "duplicate_name");
    expect(error.details).toEqual({ fields: { name: "Already used by an active key" } });
    await createKey({ name, permissions: ["campaigns:read"] }, await newTenant());
  });

  it("the name of a revoked or an expired key can be used again", async () => {
    const revokedName = `revoked ${crypto.randomUUID()}`;
    const revoked = await createKey({ name: revokedName, permissions: ["campaigns:read"] });
    expect((await revoke(revoked.id)).status).toBe(204);
    expect((await createKey({ name: revokedName, permissions: ["campaigns:read"] })).id).not.toBe(revoked.id);

    const expiredName = `expired ${crypto.randomUUID()}`;
    const expired = await createKey({ name: expiredName, permissions: ["campaigns:read"] });
    await expire(expired.id);
    expect((await createKey({ name: expiredName, permissions: ["campaigns:read"] })).id).not.toBe(expired.id);
  });

  it("5 concurrent creates of one name: exactly one 201, four 409 duplicate_name", async () => {
    const t = await newTenant();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => create({ name: "racing", permissions: ["campaigns:read"] }, t)),
    );
    expect(statusCounts(responses)).toEqual({ 201: 1, 409: 4 });
    for (const res of responses.filter((r) => r.status === 409)) expectError(res, 409, "duplicate_name");
    expect(await db()`select 1 from public.api_keys where workspace_id = ${t.workspaceId} and name = 'racing'`)
      .toHaveLength(1);
  });
});

describe("GET /v1/api-keys", () => {
  it("newest first, paginated, in the contract's shape, never with the key or its hash", async () => {
    const t = await newTenant();
    const [first] = await db()`select id from public.api_keys where workspace_id = ${t.workspaceId}`;
    await db()`update public.api_keys set created_at = now() - interval '1 hour' where id = ${first.id}`;
    const second = await createKey({ permissions: ["campaigns:read"], description: "second" }, t);
    const third = await createKey({ permissions: ["webhooks:read"], expires_at: "2099-01-01T00:00:00Z" }, t);
    await call(`${s.gateway.url}/v1/campaigns`, { key: second.key });

    const page1 = await apiKeys("?per_page=2", { key: t.key });
    expect(page1.status).toBe(200);
    expect(page1.body.meta).toEqual({ page: 1, per_page: 2, total: 3, next_cursor: expect.any(String) });
    const listed = page1.body.data.api_keys;
    expect(listed.map((k: { id: string }) => k.id)).toEqual([third.id, second.id]);
    for (const apiKey of listed) expect(Object.keys(apiKey).sort()).toEqual(LISTED_FIELDS);
    const { key: _key, ...shown } = third;
    expect(listed[0]).toEqual({ ...shown, last_used_at: null, revoked_at: null });
    expect(listed[1]).toMatchObject({ description: "second", revoked_at: null });
    expect(listed[1].last_used_at).toMatch(ISO_UTC);
    for (const apiKey of [second, third]) expect(page1.text).not.toContain(apiKey.key.slice(12));

    const page2 = await apiKeys("?per_page=2&page=2", { key: t.key });
    expect(page2.body.meta).toEqual({ page: 2, per_page: 2, total: 3, next_cursor: null });
    expect(page2.body.data.api_keys.map((k: { id: string }) => k.id)).toEqual([first.id]);
    expect(page2.body.data.api_keys[0].last_used_at).toMatch(ISO_UTC); // the key making these requests
    expect((await apiKeys("?page=3000000000", { key: t.key })).body).toEqual({
      data: { api_keys: [] },
      meta: { page: 3000000000, per_page: 50, total: 3, next_cursor: null },
    });
  });

  it("leaves revoked keys out unless include_revoked=true", async () => {
    const t = await newTenant();
    const gone = await createKey({ permissions: ["campaigns:read"] }, t);
    expect((await revoke(gone.id, t.key)).status).toBe(204);
    const ids = async (query: string) => {
      const res = await apiKeys(query, { key: t.key });
      expect(res.status, query).toBe(200);
      return { ids: res.body.data.api_keys.map((k: { id: string }) => k.id), total: res.body.meta.total };
    };
    expect(await ids("")).toEqual({ ids: [t.keyId], total: 1 });
    expect(await ids("?include_revoked=false")).toEqual({ ids: [t.keyId], total: 1 });
    expect(await ids("?include_revoked=true")).toEqual({ ids: [gone.id, t.keyId], total: 2 });
    const revoked = (await apiKeys("?include_revoked=true", { key: t.key })).body.data.api_keys[0];
    expect(revoked.revoked_at).toMatch(ISO_UTC);
  });

  it("walks by cursor, with the include_revoked it was issued with", async () => {
    const t = await newTenant();
    const made = [t.keyId];
    for (let i = 0; i < 4; i++) made.push((await createKey({ permissions: ["campaigns:read"] }, t)).id);
    expect((await revoke(made[2], t.key)).status).toBe(204);
    const list = (query: string) => apiKeys(`?${query}`, { key: t.key });
    const walked = async (query: string) =>
      (await walkByCursor(list, query)).flatMap((page) => page.body.data.api_keys.map((k: { id: string }) => k.id));
    const all = (await list("include_revoked=true")).body.data.api_keys.map((k: { id: string }) => k.id);
    expect(all.sort()).toEqual([...made].sort());
    expect(await walked("include_revoked=true&per_page=2")).toEqual(
      (await list("include_revoked=true")).body.data.api_keys.map((k: { id: string }) => k.id),
    );
    expect(await walked("per_page=1")).not.toContain(made[2]);
    const cursor = (await list("include_revoked=true&per_page=1")).body.meta.next_cursor;
    expect(expectFieldErrors(await list(`cursor=${cursor}`), ["cursor"]).cursor).toMatch(/issued for other filters/);
  });

  it("shows only the caller's workspace", async () => {
    const t = await newTenant();
    await createKey({ permissions: ["campaigns:read"] });
    const res = await apiKeys("?include_revoked=true", { key: t.key });
    expect(res.body.data.api_keys.map((k: { id: string }) => k.id)).toEqual([t.keyId]);
  });

  it.each([
    ["?include_revoked=yes", "include_revoked"],
    ["?include_revoked=1", "include_revoked"],
    ["?include_revoked=", "include_revoked"],
    ["?page=0", "page"],
    ["?per_page=101", "per_page"],
    ["?status=revoked", "status"],
  ])("400 validation_error for %s", async (query, field) => {
    expectFieldErrors(await apiKeys(query), [field]);
  });
});

describe("DELETE /v1/api-keys/{id}", () => {
  it("204 with no body; the key is invalid_key at once, and listed as revoked", async () => {
    const t = await newTenant();
    const victim = await createKey({ permissions: ["campaigns:read"] }, t);
    expect((await call(`${s.gateway.url}/v1/campaigns`, { key: victim.key })).status).toBe(200);

    const res = await revoke(victim.id, t.key);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expectGatewayHeaders(res);
    expect(await revokedAt(victim.id)).toBeInstanceOf(Date);
    const error = expectError(await call(`${s.gateway.url}/v1/campaigns`, { key: victim.key }), 401, "invalid_key");
    expect(error.message).toBe("Invalid or expired API key");
    const listed = await apiKeys("?include_revoked=true", { key: t.key });
    expect(listed.body.data.api_keys.find((k: { id: string }) => k.id === victim.id).revoked_at).toMatch(ISO_UTC);
  });

  it("a key can revoke itself while another admin key remains", async () => {
    const t = await newTenant();
    await createAdminKey(t);
    expect((await revoke(t.keyId, t.key)).status).toBe(204);
    expectError(await apiKeys("", { key: t.key }), 401, "invalid_key");
  });

  it("404 api_key_not_found for an unknown, already revoked or another workspace's key", async () => {
    const other = await newTenant();
    const theirs = await insertKey(other.workspaceId, ["campaigns:read"]);
    const gone = await createKey({ permissions: ["campaigns:read"] });
    expect((await revoke(gone.id)).status).toBe(204);
    for (const id of [crypto.randomUUID(), theirs, gone.id]) {
      const res = await revoke(id);
      expectError(res, 404, "api_key_not_found");
      expect(res.body).toEqual({ error: { code: "api_key_not_found", message: "No API key with this ID" } });
    }
    expect(await revokedAt(theirs)).toBeNull();
  });

  it("404 api_key_not_found for an id that is not a UUID, with only the key's check asking the database", async () => {
    const real = createPostgresDatabase(databaseUrl(), { maxConnections: 2 });
    const calls: string[] = [];
    const spied = await startGateway({
      db: { rpc: (name, args) => (calls.push(name), real.rpc(name, args)) },
    });
    try {
      for (const id of ["key_123", "123", "00000000-0000-0000-0000-00000000000g"]) {
        const res = await call(`${spied.url}/v1/api-keys/${id}`, { method: "DELETE", key: s.tenant.key });
        expectError(res, 404, "api_key_not_found");
      }
      expect(calls).toEqual(["gateway_request", "gateway_request", "gateway_request"]);
    } finally {
      await spied.close();
      await real.close();
    }
  });

  it("409 last_admin_key when no other active key would hold admin:api_keys", async () => {
    const t = await newTenant();
    const expiredAdmin = await createAdminKey(t);
    await expire(expiredAdmin.id);
    await insertKey(t.workspaceId, PERMISSIONS.filter((p) => p !== "admin:api_keys"));
    const revokedAdmin = await createAdminKey(t);
    expect((await revoke(revokedAdmin.id, t.key)).status).toBe(204);

    const error = expectError(await revoke(t.keyId, t.key), 409, "last_admin_key");
    expect(error.message).toContain("admin:api_keys");
    expect(await revokedAt(t.keyId)).toBeNull();
    expect((await apiKeys("", { key: t.key })).status).toBe(200);

    // Keys without the permission, or expired ones, can always go.
    const reader = await createKey({ permissions: ["campaigns:read"] }, t);
    expect((await revoke(reader.id, t.key)).status).toBe(204);
    expect((await revoke(expiredAdmin.id, t.key)).status).toBe(204);
  });

  it("two concurrent revocations of the last two admin keys, each by the other: one 204, and the other's key is gone", async () => {
    // Two equal keys, so that each may revoke the other (a key revokes only keys that exceed it in nothing).
    const t = await newTenant({ tier: "high", permissions: ["admin:api_keys"] });
    const second = await createAdminKey(t);
    // Both requests must be past authentication before either revokes: each is made with the key the other
    // revokes. Holding the workspace row lets both reach the RPC and queue there.
    const lock = await lockWorkspaceRow(t.workspaceId);
    const racing = Promise.all([revoke(t.keyId, second.key), revoke(second.id, t.key)]);
    try {
      await untilWaiting(lock, 2);
    } finally {
      await lock.release();
    }
    const responses = await racing;
    // The loser waited for the workspace while the winner revoked its key: it is answered like any revoked key
    // (revoke_api_key checks the revoking key under the lock), and one admin key is left.
    expect(statusCounts(responses)).toEqual({ 204: 1, 401: 1 });
    expectError(responses.find((r) => r.status === 401)!, 401, "invalid_key");
    expect(await db()`select 1 from public.api_keys where workspace_id = ${t.workspaceId} and revoked_at is null`)
      .toHaveLength(1);
  });
});
