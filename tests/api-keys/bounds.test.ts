// A key cannot make a key that exceeds it (api.md section 6, key_exceeds_caller), and revoking cannot leave a
// workspace with only admin keys that lapse sooner (last_admin_key).
import { describe, expect, it } from "vitest";
import { generateApiKey, hashApiKey } from "../../functions/_shared/auth/api-key.ts";
import { type ApiKeyFields, RATE_LIMIT_TIERS } from "../../functions/_shared/auth/api-key-record.ts";
import { PERMISSIONS } from "../../functions/_shared/auth/permissions.ts";
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

  it.each([
    { caller: "standard", asked: "high", allowed: false },
    { caller: "standard", asked: "standard", allowed: true },
    { caller: "high", asked: "high", allowed: true },
    { caller: "high", asked: "standard", allowed: true },
    { caller: "high", asked: "unmetered", allowed: false },
    // Even an unmetered key cannot hand the tier on: only operators grant it.
    { caller: "unmetered", asked: "unmetered", allowed: false },
    { caller: "unmetered", asked: "high", allowed: true },
  ] as const)("a $caller key asking for $asked: allowed $allowed", async ({ caller, asked, allowed }) => {
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
        select public.create_api_key(${workspaceId}, ${await hashApiKey(key)}, ${prefix}, ${tx.json({ ...fields })},
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
      select tier, public.rate_limit_tier_rank(tier) as rank from unnest(${[...RATE_LIMIT_TIERS, "gold"]}::text[]) as tier`;
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
    expect((await db()`update public.api_keys set revoked_at = now() where id = ${t.keyId} returning 1`)).toHaveLength(1);
    const laterKey = { ...t, key: later.body.data.api_key.key };
    expectError(await revoke(laterKey, later.body.data.api_key.id), 409, "last_admin_key");
    expect((await revoke(laterKey, soon.body.data.api_key.id)).status).toBe(204);
  });
});
