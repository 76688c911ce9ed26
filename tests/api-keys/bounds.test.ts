// A key cannot make a key that exceeds it (api.md section 6, key_exceeds_caller): in permissions, tier or
// lifetime; it cannot revoke one either; and revoking cannot leave a workspace with only admin keys that lapse
// sooner (last_admin_key).
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "@shared/auth/api-key.ts";
import { type ApiKeyFields, RATE_LIMIT_TIERS } from "@shared/auth/api-key-record.ts";
import { PERMISSIONS } from "@shared/auth/permissions.ts";
import { createApiKey } from "@scripts/admin/provisioning.ts";
import { expectError } from "../support/assertions.ts";
import { db, newTenant, type TestTenant } from "../support/fixtures.ts";
import { call, gatewaySession } from "../support/gateway.ts";
import { lockWorkspaceRow, untilWaiting } from "../support/locks.ts";

const s = gatewaySession();

const create = (t: TestTenant, body: Record<string, unknown>) =>
  call(`${s.gateway.url}/v1/api-keys`, {
    method: "POST",
    key: t.key,
    body: { name: `key ${crypto.randomUUID()}`, ...body },
  });

const keyCount = async (workspaceId: string) =>
  (await db()`select 1 from public.api_keys where workspace_id = ${workspaceId}`).length;

describe("POST /v1/api-keys is bounded by the calling key", () => {
  it("a standard key holding only admin:api_keys cannot mint an unmetered key with every permission", async () => {
    const t = await newTenant({ plan: "starter", tier: "standard", permissions: ["admin:api_keys"] });
    const res = await create(t, { permissions: [...PERMISSIONS], rate_limit_tier: "unmetered" });
    const error = expectError(res, 403, "key_exceeds_caller");
    expect(error.details).toEqual({
      permissions: PERMISSIONS.filter((p) => p !== "admin:api_keys").sort(),
      rate_limit_tier: "unmetered",
      caller_rate_limit_tier: "standard",
    });
    expect(error.message).toContain("campaigns:write");
    expect(error.message).toContain("admin CLI");
    expect(await keyCount(t.workspaceId)).toBe(1);
  });

  it.each(
    [
      { caller: "standard", asked: "high", allowed: false },
      { caller: "standard", asked: "standard", allowed: true },
      { caller: "high", asked: "high", allowed: true },
      { caller: "high", asked: "standard", allowed: true },
      { caller: "high", asked: "unmetered", allowed: false },
      // Even an unmetered key cannot hand the tier on: only operators grant it.
      { caller: "unmetered", asked: "unmetered", allowed: false },
      { caller: "unmetered", asked: "high", allowed: true },
    ] as const,
  )("a $caller key asking for $asked: allowed $allowed", async ({ caller, asked, allowed }) => {
    const t = await newTenant({ tier: caller });
    const res = await create(t, { permissions: ["campaigns:read"], rate_limit_tier: asked });
    if (allowed) {
      expect(res.status, res.text).toBe(201);
      expect(res.body.data.api_key.rate_limit_tier).toBe(asked);
    } else {
      const error = expectError(res, 403, "key_exceeds_caller");
      expect(error.details).toEqual({ permissions: [], rate_limit_tier: asked, caller_rate_limit_tier: caller });
      expect(error.message).toMatch(/tier/);
    }
  });

  it("permissions must be a subset of the caller's: exactly the missing ones are named", async () => {
    const t = await newTenant({ tier: "high", permissions: ["admin:api_keys", "campaigns:read"] });
    expect((await create(t, { permissions: ["campaigns:read", "admin:api_keys"] })).status).toBe(201);
    const error = expectError(
      await create(t, { permissions: ["campaigns:read", "webhooks:write", "campaigns:write"] }),
      403,
      "key_exceeds_caller",
    );
    expect(error.details).toEqual({
      permissions: ["campaigns:write", "webhooks:write"],
      rate_limit_tier: "standard",
      caller_rate_limit_tier: "high",
    });
    expect(error.message).toContain("campaigns:write, webhooks:write");
    expect(error.message).not.toMatch(/tier/);
  });

  it("a caller revoked while its request waits for the workspace gets invalid_key, and nothing is created", async () => {
    const t = await newTenant({ tier: "high" });
    const lock = await lockWorkspaceRow(t.workspaceId);
    const pending = create(t, { permissions: ["campaigns:read"] });
    try {
      await untilWaiting(lock, 1);
      await db()`update public.api_keys set revoked_at = now() where id = ${t.keyId}`;
    } finally {
      await lock.release();
    }
    expectError(await pending, 401, "invalid_key");
    expect(await keyCount(t.workspaceId)).toBe(1);
  });
});

describe("create_api_key in SQL", () => {
  /** The RPC as the deployed functions call it: as service_role. */
  async function asServiceRole(workspaceId: string, fields: ApiKeyFields, creatorKeyId: string | null) {
    const { key, prefix } = generateApiKey();
    return await db().begin(async (tx) => {
      await tx`set local role service_role`;
      const [{ result }] = await tx`
        select public.create_api_key(${workspaceId}, ${hashApiKey(key)}, ${prefix}, ${tx.json({ ...fields })},
                                     ${creatorKeyId}) as result`;
      return result;
    });
  }

  it("holds for any service_role caller: a creating key is required, and the bounds apply", async () => {
    const t = await newTenant({ tier: "standard", permissions: ["admin:api_keys"] });
    const fields: ApiKeyFields = { name: "direct", permissions: ["campaigns:write"], rate_limit_tier: "unmetered" };
    await expect(asServiceRole(t.workspaceId, fields, null)).rejects.toThrow(/must name the creating key/);
    expect(await asServiceRole(t.workspaceId, fields, t.keyId)).toMatchObject({
      outcome: "exceeds_caller",
      permissions: ["campaigns:write"],
      tier_exceeds: true,
    });
    expect(await keyCount(t.workspaceId)).toBe(1);
  });

  it("ranks the tiers in the order RATE_LIMIT_TIERS declares", async () => {
    const ranks = await db()<{ tier: string; rank: number }[]>`
      select tier, public.rate_limit_tier_rank(tier) as rank from unnest(${[
      ...RATE_LIMIT_TIERS,
      "gold",
    ]}::text[]) as tier`;
    expect(ranks).toEqual([...RATE_LIMIT_TIERS.map((tier, rank) => ({ tier, rank })), { tier: "gold", rank: null }]);
  });
});

describe("DELETE /v1/api-keys/{id}: last_admin_key counts only admin keys that last", () => {
  const revoke = (t: TestTenant, id: string) =>
    call(`${s.gateway.url}/v1/api-keys/${id}`, { method: "DELETE", key: t.key });
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

  it("refuses to revoke the long-lived admin key when the only other one expires in seconds", async () => {
    const t = await newTenant({ tier: "high" });
    const shortLived = await create(t, { permissions: ["admin:api_keys"], expires_at: inSeconds(5) });
    expect(shortLived.status, shortLived.text).toBe(201);

    const error = expectError(await revoke(t, t.keyId), 409, "last_admin_key");
    expect(error.message).toContain("expires no sooner");
    expect((await db()`select revoked_at from public.api_keys where id = ${t.keyId}`)[0].revoked_at).toBeNull();

    // The short-lived key itself can go, and a long-lived admin key lets the first one go too.
    expect((await revoke(t, shortLived.body.data.api_key.id)).status).toBe(204);
    expect((await create(t, { permissions: ["admin:api_keys"] })).status).toBe(201);
    expect((await revoke(t, t.keyId)).status).toBe(204);
  });

  it("an expiring admin key may go while another lasts at least as long", async () => {
    const t = await newTenant({ tier: "high" });
    const soon = await create(t, { permissions: ["admin:api_keys"], expires_at: inSeconds(3600) });
    const later = await create(t, { permissions: ["admin:api_keys"], expires_at: inSeconds(7200) });
    expect(await db()`update public.api_keys set revoked_at = now() where id = ${t.keyId} returning 1`).toHaveLength(1);
    const laterKey = { ...t, key: later.body.data.api_key.key };
    expectError(await revoke(laterKey, later.body.data.api_key.id), 409, "last_admin_key");
    expect((await revoke(laterKey, soon.body.data.api_key.id)).status).toBe(204);
  });
});

describe("lifetimes: a key made by a key expires no later than its creator (issue 17)", () => {
  const inHours = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();

  /** An admin key of a fresh workspace that expires in `hours` (null: never), as a tenant. */
  async function adminExpiringIn(hours: number | null): Promise<TestTenant> {
    const t = await newTenant({ tier: "high" });
    const key = await createApiKey(db(), {
      workspaceId: t.workspaceId,
      permissions: [...PERMISSIONS],
      tier: "high",
      ...(hours === null ? {} : { expiresAt: inHours(hours) }),
    });
    return { workspaceId: t.workspaceId, key: key.key, keyId: key.id };
  }

  it("an admin key that expires tomorrow cannot mint a key that never expires, nor one that outlives it", async () => {
    const t = await adminExpiringIn(24);
    const [{ expires_at: callerExpiry }] = await db()<{ expires_at: Date }[]>`
      select expires_at from public.api_keys where id = ${t.keyId}`;
    const before = await keyCount(t.workspaceId);
    for (const expires_at of [null, undefined, inHours(48)]) {
      const error = expectError(
        await create(t, { permissions: ["campaigns:read"], expires_at }),
        403,
        "key_exceeds_caller",
      );
      expect(error.message).toMatch(/lifetime beyond the caller's/);
      expect(error.message).toContain(`the caller expires at ${callerExpiry.toISOString()}`);
      expect(error.message).not.toMatch(/tier|permissions/);
      expect(error.details).toEqual({
        permissions: [],
        rate_limit_tier: "standard",
        caller_rate_limit_tier: "high",
        expires_at: expires_at ?? null,
        caller_expires_at: callerExpiry.toISOString(),
      });
    }
    expect(await keyCount(t.workspaceId)).toBe(before);
    // Sooner, or at the same instant, is fine.
    const sooner = await create(t, { permissions: ["campaigns:read"], expires_at: inHours(12) });
    expect(sooner.status, sooner.text).toBe(201);
    const same = await create(t, { permissions: ["campaigns:read"], expires_at: callerExpiry.toISOString() });
    expect(same.status, same.text).toBe(201);
  });

  it("a key that never expires may mint a key that never expires or one that does", async () => {
    const t = await adminExpiringIn(null);
    expect((await create(t, { permissions: ["campaigns:read"], expires_at: null })).status).toBe(201);
    expect((await create(t, { permissions: ["campaigns:read"], expires_at: inHours(24 * 365) })).status).toBe(201);
  });

  it("the message names every bound a request passes at once", async () => {
    const t = await adminExpiringIn(1);
    await db()`update public.api_keys set permissions = '{admin:api_keys}', rate_limit_tier = 'standard' where id = ${t.keyId}`;
    const error = expectError(
      await create(t, { permissions: ["campaigns:write"], rate_limit_tier: "high" }),
      403,
      "key_exceeds_caller",
    );
    expect(error.message).toMatch(
      /permissions the caller does not hold \(campaigns:write\) and a tier above the caller's \(high > standard\) and a lifetime beyond the caller's \(the key never expires/,
    );
  });
});

describe("DELETE /v1/api-keys/{id}: only keys the caller could have created (issue 17)", () => {
  const revoke = (t: TestTenant, id: string) =>
    call(`${s.gateway.url}/v1/api-keys/${id}`, { method: "DELETE", key: t.key });
  const isRevoked = async (id: string) =>
    (await db()<{ revoked_at: Date | null }[]>`select revoked_at from public.api_keys where id = ${id}`)[0]
      .revoked_at !== null;
  const keyOf = async (t: TestTenant, input: Omit<Parameters<typeof createApiKey>[1], "workspaceId">) => {
    const key = await createApiKey(db(), { workspaceId: t.workspaceId, ...input });
    return { workspaceId: t.workspaceId, key: key.key, keyId: key.id };
  };

  it("a weaker admin key cannot revoke a stronger one: 403 key_exceeds_caller naming the bounds, and the key still works", async () => {
    const strong = await newTenant({ tier: "high" });
    const weak = await keyOf(strong, { permissions: ["admin:api_keys", "campaigns:read"], tier: "standard" });
    const error = expectError(await revoke(weak, strong.keyId), 403, "key_exceeds_caller");
    expect(error.message).toMatch(
      /^A key can revoke only keys it could have created; this key has permissions the caller does not hold \(campaigns:write, webhooks:read, webhooks:write\) and a tier above the caller's \(high > standard\)$/,
    );
    expect(error.details).toEqual({
      permissions: ["campaigns:write", "webhooks:read", "webhooks:write"],
      rate_limit_tier: "high",
      caller_rate_limit_tier: "standard",
    });
    expect(await isRevoked(strong.keyId)).toBe(false);
    expect((await call(`${s.gateway.url}/v1/campaigns`, { key: strong.key })).status).toBe(200);
  });

  it("an admin key that expires tomorrow cannot revoke an equal key that never expires, nor one that outlives it", async () => {
    const t = await newTenant({ tier: "standard", permissions: ["admin:api_keys"] });
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const shortLived = await keyOf(t, { permissions: ["admin:api_keys"], tier: "standard", expiresAt: tomorrow });
    const later = await keyOf(t, {
      permissions: ["admin:api_keys"],
      tier: "standard",
      expiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString(),
    });
    for (const victim of [t.keyId, later.keyId]) {
      const error = expectError(await revoke(shortLived, victim), 403, "key_exceeds_caller");
      expect(error.message).toMatch(/lifetime beyond the caller's/);
      expect(await isRevoked(victim)).toBe(false);
    }
    // The never-expiring key may revoke the other two.
    expect((await revoke(t, later.keyId)).status).toBe(204);
    expect((await revoke(t, shortLived.keyId)).status).toBe(204);
  });

  it("a key may revoke what it could have created, and itself", async () => {
    const t = await newTenant({ tier: "high", permissions: ["admin:api_keys", "campaigns:read"] });
    const minted = await create(t, { permissions: ["campaigns:read"], rate_limit_tier: "high" });
    expect((await revoke(t, minted.body.data.api_key.id)).status).toBe(204);
    const weak = await keyOf(t, { permissions: ["admin:api_keys"], tier: "standard" });
    expect((await revoke(weak, weak.keyId)).status).toBe(204);
    expectError(await call(`${s.gateway.url}/v1/api-keys`, { key: weak.key }), 401, "invalid_key");
  });

  it("a revoker revoked while its request waits for the workspace gets invalid_key, and nothing is revoked", async () => {
    const t = await newTenant({ tier: "high" });
    const victim = await keyOf(t, { permissions: ["campaigns:read"], tier: "standard" });
    const lock = await lockWorkspaceRow(t.workspaceId);
    const pending = revoke(t, victim.keyId);
    try {
      await untilWaiting(lock, 1);
      await db()`update public.api_keys set revoked_at = now() where id = ${t.keyId}`;
    } finally {
      await lock.release();
    }
    expectError(await pending, 401, "invalid_key");
    expect(await isRevoked(victim.keyId)).toBe(false);
  });

  it("in SQL: service_role must name the revoking key", async () => {
    const t = await newTenant({ tier: "high" });
    const victim = await keyOf(t, { permissions: ["campaigns:read"], tier: "standard" });
    await expect(
      db().begin(async (tx) => {
        await tx`set local role service_role`;
        await tx`select public.revoke_api_key(${t.workspaceId}, ${victim.keyId}, 'admin:api_keys', null)`;
      }),
    ).rejects.toThrow(/must name the revoking key/);
    expect(await isRevoked(victim.keyId)).toBe(false);
  });
});
