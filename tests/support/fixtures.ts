import postgres from "postgres";
import { inject } from "vitest";
import type { Permission } from "../../functions/_shared/auth/permissions.ts";
import { createApiKey, createWorkspace, type Plan, type RateLimitTier } from "../../scripts/admin/provisioning.ts";

export const databaseUrl = (): string => inject("databaseUrl");

let shared: postgres.Sql | undefined;
/** A direct connection for arranging rows and asserting on them. */
export function db(): postgres.Sql {
  shared ??= postgres(databaseUrl(), { max: 4, onnotice: () => {} });
  return shared;
}

export const ALL_PERMISSIONS: Permission[] = [
  "campaigns:read", "campaigns:write", "webhooks:read", "webhooks:write", "admin:api_keys",
];

export interface TestTenant {
  workspaceId: string;
  key: string;
  keyId: string;
}

/** A fresh workspace with one key, so every test works on data no other test touches. */
export async function newTenant(options: {
  plan?: Plan;
  tier?: RateLimitTier;
  permissions?: Permission[];
} = {}): Promise<TestTenant> {
  const workspace = await createWorkspace(db(), { name: "test workspace", plan: options.plan ?? "org" });
  const key = await createApiKey(db(), {
    workspaceId: workspace.id,
    permissions: options.permissions ?? ALL_PERMISSIONS,
    tier: options.tier ?? "unmetered",
  });
  return { workspaceId: workspace.id, key: key.key, keyId: key.id };
}

/** Another key in the same workspace. */
export async function newKey(tenant: TestTenant, permissions: Permission[], tier: RateLimitTier = "unmetered") {
  return (await createApiKey(db(), { workspaceId: tenant.workspaceId, permissions, tier })).key;
}

export async function insertCampaign(workspaceId: string, fields: { status?: string; name?: string } = {}) {
  const [row] = await db()<{ id: string }[]>`
    insert into public.campaigns (workspace_id, name, status)
    values (${workspaceId}, ${fields.name ?? "fixture"}, ${fields.status ?? "draft"}) returning id`;
  return row.id;
}
