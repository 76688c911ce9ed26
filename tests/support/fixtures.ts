import postgres from "postgres";
import { inject } from "vitest";
import { type Permission, PERMISSIONS } from "@shared/auth/permissions.ts";
import { createApiKey, createWorkspace, type Plan, type RateLimitTier } from "@scripts/admin/provisioning.ts";

export const databaseUrl = (): string => inject("databaseUrl");

let shared: postgres.Sql | undefined;
/** A direct connection for arranging rows and asserting on them. */
export function db(): postgres.Sql {
  shared ??= postgres(databaseUrl(), { max: 4, onnotice: () => {} });
  return shared;
}

export const ALL_PERMISSIONS: Permission[] = [...PERMISSIONS];

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

export async function insertCampaign(
  workspaceId: string,
  fields: { status?: string; name?: string; createdAt?: string } = {},
) {
  const [row] = await db()<{ id: string }[]>`
    insert into public.campaigns (workspace_id, name, status, created_at)
    values (${workspaceId}, ${fields.name ?? "fixture"}, ${fields.status ?? "draft"},
            coalesce(${fields.createdAt ?? null}::timestamptz, now())) returning id`;
  return row.id;
}

/** An active webhook endpoint of the workspace subscribed to `events` (deliveries get queued for it). */
export async function insertEndpoint(workspaceId: string, events: string[]): Promise<string> {
  const [row] = await db()<{ id: string }[]>`
    insert into public.webhook_endpoints (workspace_id, url, events, secret)
    values (${workspaceId}, ${`https://hooks.example.com/${crypto.randomUUID()}`}, ${events}, 'whsec_x')
    returning id`;
  return row.id;
}

/**
 * The workspace's webhook events (outbox rows), oldest first, with how many deliveries each queued; only those
 * about one campaign when `campaignId` is given.
 */
export async function eventsOf(workspaceId: string, campaignId?: string) {
  return await db()<{ event: string; data: { campaign: Record<string, unknown> }; deliveries: number }[]>`
    select e.event, e.data, (select count(*)::int from public.webhook_deliveries d where d.event_id = e.id) as deliveries
      from public.webhook_events e
     where e.workspace_id = ${workspaceId}
       and (${campaignId ?? null}::text is null or e.data -> 'campaign' ->> 'id' = ${campaignId ?? null})
     order by e.occurred_at, e.id`;
}
