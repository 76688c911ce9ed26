// Operator-side provisioning of workspaces and keys, straight against Postgres. Customers never reach this code;
// the admin CLI, `npm start`'s demo key, the tests and the benchmark all use it.
import type postgres from "postgres";
import { generateApiKey, hashApiKey } from "@shared/auth/api-key.ts";
import {
  apiKeyFieldsSchema,
  type CreateApiKeyOutcome,
  RATE_LIMIT_TIERS,
  type RateLimitTier,
} from "@shared/auth/api-key-record.ts";
import { isPermission, type Permission, PERMISSIONS } from "@shared/auth/permissions.ts";
import { isIsoTime } from "@shared/http/iso-time.ts";
import { fieldProblems } from "@shared/http/validation.ts";
import { type Plan, PLANS, WORKSPACE_NAME_MAX_LENGTH } from "@shared/workspaces/plans.ts";

export { isIsoTime, type Plan, PLANS, RATE_LIMIT_TIERS, type RateLimitTier };

export class ProvisioningError extends Error {}

async function requireWorkspace(sql: postgres.Sql, id: string): Promise<void> {
  const [workspace] = await sql`select 1 from public.workspaces where id::text = ${id}`;
  if (!workspace) throw new ProvisioningError(`no workspace with id ${id}`);
}

export interface Workspace {
  id: string;
  name: string;
  plan: Plan;
}

export async function createWorkspace(sql: postgres.Sql, input: { name: string; plan?: string }): Promise<Workspace> {
  const plan = input.plan ?? "starter";
  if (!(PLANS as readonly string[]).includes(plan)) {
    throw new ProvisioningError(`plan must be one of: ${PLANS.join(", ")}`);
  }
  if (input.name.length < 1 || input.name.length > WORKSPACE_NAME_MAX_LENGTH) {
    throw new ProvisioningError(`name must be 1 to ${WORKSPACE_NAME_MAX_LENGTH} characters`);
  }
  const [row] = await sql<Workspace[]>`
    insert into public.workspaces (name, plan) values (${input.name}, ${plan}) returning id, name, plan`;
  return row;
}

export interface CreatedApiKey {
  id: string;
  /** The plaintext key: shown once, never stored. */
  key: string;
  prefix: string;
  permissions: Permission[];
  rate_limit_tier: RateLimitTier;
  expires_at: string | null;
}

export interface ApiKeyInput {
  workspaceId: string;
  permissions: string[];
  name?: string;
  tier?: string;
  expiresAt?: string;
}

export async function createApiKey(sql: postgres.Sql, input: ApiKeyInput): Promise<CreatedApiKey> {
  const unknown = input.permissions.filter((p) => !isPermission(p));
  if (unknown.length) {
    throw new ProvisioningError(`unknown permission(s): ${unknown.join(", ")}; known: ${PERMISSIONS.join(", ")}`);
  }
  const tier = input.tier ?? "standard";
  if (!(RATE_LIMIT_TIERS as readonly string[]).includes(tier)) {
    throw new ProvisioningError(`tier must be one of: ${RATE_LIMIT_TIERS.join(", ")}`);
  }
  // The same rules (the same schema) as the API's POST /v1/api-keys, and the same RPC, so both make keys of one
  // format under one set of rules; the checks above only give the CLI's flags friendlier messages. No creating
  // key: operators may grant any permission and tier (unmetered included).
  const { key, prefix } = generateApiKey();
  const parsed = apiKeyFieldsSchema.safeParse({
    name: input.name ?? `key ${prefix}`,
    permissions: input.permissions,
    rate_limit_tier: tier,
    expires_at: input.expiresAt ?? null,
  });
  if (!parsed.success) {
    const problems = Object.entries(fieldProblems(parsed.error)).map(([field, problem]) => `${field}: ${problem}`);
    throw new ProvisioningError(problems.join("; "));
  }
  const fields = parsed.data;
  await requireWorkspace(sql, input.workspaceId);
  const [{ result }] = await sql<{ result: CreateApiKeyOutcome }[]>`
    select public.create_api_key(${input.workspaceId}, ${hashApiKey(key)}, ${prefix},
                                 ${sql.json(fields)}, null) as result`;
  if (result.outcome === "duplicate_name") {
    throw new ProvisioningError(`an active key named "${fields.name}" already exists in this workspace`);
  }
  // Bounds apply only to keys made by keys; an operator names none.
  if (result.outcome !== "ok") throw new Error(`create_api_key answered ${result.outcome} to an operator`);
  const { id, permissions, rate_limit_tier, expires_at } = result.api_key;
  return { id, key, prefix, permissions, rate_limit_tier, expires_at };
}

export async function revokeApiKey(sql: postgres.Sql, id: string): Promise<{ id: string; revoked_at: string }> {
  const [row] = await sql<{ id: string; revoked_at: Date }[]>`
    update public.api_keys set revoked_at = coalesce(revoked_at, now())
     where id::text = ${id} returning id, revoked_at`;
  if (!row) throw new ProvisioningError(`no API key with id ${id}`);
  return { id: row.id, revoked_at: row.revoked_at.toISOString() };
}

export async function listApiKeys(sql: postgres.Sql, workspaceId: string) {
  await requireWorkspace(sql, workspaceId);
  const rows = await sql`
    select id, prefix, name, permissions, rate_limit_tier, expires_at, revoked_at, last_used_at, created_at
      from public.api_keys where workspace_id::text = ${workspaceId} order by created_at`;
  return rows.map((r) => ({
    ...r,
    expires_at: r.expires_at?.toISOString() ?? null,
    revoked_at: r.revoked_at?.toISOString() ?? null,
    last_used_at: r.last_used_at?.toISOString() ?? null,
    created_at: r.created_at.toISOString(),
  }));
}
