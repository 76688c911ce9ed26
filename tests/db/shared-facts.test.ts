// Facts both the TypeScript and the database enforce are declared once in TypeScript; this holds each
// declaration against the database's CHECK constraints and functions, so neither side can drift alone.
import { describe, expect, it } from "vitest";
import { KEY_DESCRIPTION_MAX_LENGTH, KEY_NAME_MAX_LENGTH, RATE_LIMIT_TIERS } from "@shared/auth/api-key-record.ts";
import { PERMISSIONS } from "@shared/auth/permissions.ts";
import { CAMPAIGN_LIMITS, CAMPAIGN_STATUSES } from "@shared/campaigns/campaign.ts";
import {
  ATTEMPT_ERRORS,
  ATTEMPT_STATUSES,
  DELIVERY_STATUSES,
  DISABLED_REASONS,
  WEBHOOK_DESCRIPTION_MAX_LENGTH,
} from "@shared/webhooks/endpoint.ts";
import { HIGH_TIER_FACTOR, PLAN_LIMITS, PLANS, WORKSPACE_NAME_MAX_LENGTH } from "@shared/workspaces/plans.ts";
import { IDEMPOTENCY_WINDOW_HOURS } from "@gateway/http/idempotency.ts";
import { createApiKey, createWorkspace } from "@scripts/admin/provisioning.ts";
import { db } from "../support/fixtures.ts";

/** The definition of the one CHECK constraint of `table` that mentions `column`. */
async function checkOf(table: string, column: string): Promise<string> {
  const rows = await db()<{ def: string }[]>`
    select pg_get_constraintdef(c.oid) as def
      from pg_constraint c
     where c.conrelid = ${`public.${table}`}::regclass and c.contype = 'c'`;
  const defs = rows.map((r) => r.def).filter((def) => new RegExp(`\\b${column}\\b`).test(def));
  expect(defs, `${table}.${column}: ${JSON.stringify(rows)}`).toHaveLength(1);
  return defs[0];
}

/** The values of a `column = ANY (ARRAY['a'::text, ...])` constraint, in order. */
async function allowedValues(table: string, column: string): Promise<string[]> {
  const def = await checkOf(table, column);
  return [...def.matchAll(/'([^']*)'::text/g)].map((m) => m[1]);
}

/** The bounds of a `char_length(column)` or plain numeric range constraint. */
async function bounds(table: string, column: string): Promise<{ min?: number; max?: number }> {
  const def = await checkOf(table, column);
  // Only inclusive bounds are read (Postgres writes BETWEEN as >= and <=): a strict one would be off by one from
  // the TypeScript limit, and is then not found, which fails the comparison.
  const min = />=\s*(\d+)/.exec(def);
  const max = /<=\s*(\d+)/.exec(def);
  return { ...(min ? { min: Number(min[1]) } : {}), ...(max ? { max: Number(max[1]) } : {}) };
}

describe("one home per fact: TypeScript and the database agree", () => {
  it.each([
    ["campaigns", "status", CAMPAIGN_STATUSES],
    ["workspaces", "plan", PLANS],
    ["api_keys", "rate_limit_tier", RATE_LIMIT_TIERS],
    ["api_keys", "permissions", PERMISSIONS],
    ["webhook_deliveries", "status", DELIVERY_STATUSES],
    ["webhook_attempts", "status", ATTEMPT_STATUSES],
    ["webhook_attempts", "error", ATTEMPT_ERRORS],
    ["webhook_endpoints", "disabled_reason", DISABLED_REASONS],
  ])("%s.%s allows exactly the declared values", async (table, column, declared) => {
    expect((await allowedValues(table, column)).sort()).toEqual([...declared].sort());
  });

  it.each([
    ["campaigns", "name", { min: 1, max: CAMPAIGN_LIMITS.nameMaxLength }],
    ["campaigns", "description", { max: CAMPAIGN_LIMITS.descriptionMaxLength }],
    ["campaigns", "template", { max: CAMPAIGN_LIMITS.templateMaxLength }],
    ["campaigns", "daily_send_limit", CAMPAIGN_LIMITS.dailySendLimit],
    ["campaigns", "delay_between_emails", { min: CAMPAIGN_LIMITS.delayBetweenEmailsMin }],
    ["workspaces", "name", { min: 1, max: WORKSPACE_NAME_MAX_LENGTH }],
    ["api_keys", "name", { min: 1, max: KEY_NAME_MAX_LENGTH }],
    ["api_keys", "description", { max: KEY_DESCRIPTION_MAX_LENGTH }],
    ["webhook_endpoints", "description", { max: WEBHOOK_DESCRIPTION_MAX_LENGTH }],
  ])("%s.%s has the declared bounds", async (table, column, declared) => {
    expect(await bounds(table, column)).toEqual(declared);
  });

  it("a key cannot hold a permission the gateway does not know, nor a NULL one (which no permission check matches)", async () => {
    const workspace = await createWorkspace(db(), { name: "permission facts", plan: "org" });
    const key = await createApiKey(db(), {
      workspaceId: workspace.id,
      permissions: ["campaigns:read"],
      tier: "unmetered",
    });
    for (const permissions of [["campaigns:read", null], ["campaigns:delete"]]) {
      const update = db()`update public.api_keys set permissions = ${permissions}::text[] where id = ${key.id}`;
      await expect(update, JSON.stringify(permissions))
        .rejects.toMatchObject({ code: "23514", constraint_name: "api_keys_permissions_known" });
    }
  });

  it("an Idempotency-Key is remembered as long as the gateway says (public.idempotency_window)", async () => {
    const [{ hours }] = await db()<{ hours: number }[]>`
      select extract(epoch from public.idempotency_window())::int / 3600 as hours`;
    expect(hours).toBe(IDEMPOTENCY_WINDOW_HOURS);
  });

  it("public.plan_limits gives each plan's declared limits, ten times them on the high tier", async () => {
    for (const plan of PLANS) {
      for (const [tier, factor] of [["standard", 1], ["high", HIGH_TIER_FACTOR]] as const) {
        const [limits] = await db()<{ per_day: number; per_minute: number }[]>`
          select per_day, per_minute from public.plan_limits(${plan}, ${tier})`;
        expect(limits, `${plan}/${tier}`).toEqual({
          per_day: PLAN_LIMITS[plan].perDay * factor,
          per_minute: PLAN_LIMITS[plan].perMinute * factor,
        });
      }
    }
  });

  it("a key is active by one rule: api_key_is_active and resolve_api_key agree on every kind of key", async () => {
    const workspace = await createWorkspace(db(), { name: "shared facts", plan: "org" });
    const kinds = {
      active: "",
      "expiring later": "expires_at = now() + interval '1 hour'",
      expired: "expires_at = now() - interval '1 second'",
      revoked: "revoked_at = now()",
    };
    for (const [kind, change] of Object.entries(kinds)) {
      const key = await createApiKey(db(), {
        workspaceId: workspace.id,
        permissions: ["campaigns:read"],
        tier: "unmetered",
      });
      if (change) await db().unsafe(`update public.api_keys set ${change} where id = $1`, [key.id]);
      const [{ active }] = await db()<{ active: boolean }[]>`
        select public.api_key_is_active(k) as active from public.api_keys k where k.id = ${key.id}`;
      const [{ outcome }] = await db()<{ outcome: string }[]>`
        select public.resolve_api_key(encode(sha256(convert_to(${key.key}, 'UTF8')), 'hex')) ->> 'outcome' as outcome`;
      expect({ kind, active, resolves: outcome === "ok" }).toEqual({
        kind,
        active: kind === "active" || kind === "expiring later",
        resolves: kind === "active" || kind === "expiring later",
      });
    }
  });
});
