// The cross-cutting contract (401, 403, another workspace's 404, rate-limit headers, X-Request-ID) for every
// operation, enumerated from the OpenAPI document that the route definitions generate, not from a hand-kept
// list. An operation added without a declared permission, or without a fixture below that builds a request it
// accepts, fails the first test.
import { describe, expect, it } from "vitest";
import type { Permission } from "@shared/auth/permissions.ts";
import { openApiDocument } from "@gateway/openapi/document.ts";
import { createApiKey } from "@scripts/admin/provisioning.ts";
import { db, insertCampaign, insertEndpoint } from "../support/fixtures.ts";
import { resolveHost } from "../support/fuzz-inputs.ts";
import { securitySuite } from "../support/security-suite.ts";

/** A failed delivery to a fresh endpoint of the workspace, which the retry operation accepts. */
async function failedDelivery(workspaceId: string) {
  const endpoint = await insertEndpoint(workspaceId, ["campaign.created"]);
  const [row] = await db()<{ id: string }[]>`
    with ev as (insert into public.webhook_events (workspace_id, event, data)
                values (${workspaceId}, 'campaign.created', '{}') returning id)
    insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts, completed_at)
    select ${workspaceId}, ev.id, ${endpoint}, 'failed', 6, now() from ev
    returning id`;
  return { id: endpoint, delivery_id: row.id };
}

interface Fixture {
  /** Path parameters naming resources of `workspaceId` in a state where the operation succeeds. */
  params?: (workspaceId: string) => Promise<Record<string, string>>;
  body?: unknown;
}

const campaign = (status = "draft") => async (workspaceId: string) => ({
  id: await insertCampaign(workspaceId, { status }),
});
const endpoint = async (workspaceId: string) => ({ id: await insertEndpoint(workspaceId, ["campaign.created"]) });

/** One request each operation accepts, by operationId. */
const FIXTURES: Record<string, Fixture> = {
  listCampaigns: {},
  createCampaign: { body: { name: "route table" } },
  getCampaign: { params: campaign() },
  updateCampaign: { params: campaign(), body: { name: "renamed" } },
  deleteCampaign: { params: campaign() },
  startCampaign: { params: campaign() },
  pauseCampaign: { params: campaign("active") },
  listWebhooks: {},
  createWebhook: { body: { url: `https://receiver.example.com/${crypto.randomUUID()}`, events: ["campaign.created"] } },
  getWebhook: { params: endpoint },
  updateWebhook: { params: endpoint, body: { active: false } },
  deleteWebhook: { params: endpoint },
  listWebhookLogs: { params: endpoint },
  listWebhookDeliveries: { params: endpoint },
  getWebhookDelivery: { params: failedDelivery },
  testWebhook: { params: endpoint },
  retryWebhookDelivery: { params: failedDelivery },
  rotateWebhookSecret: { params: endpoint, body: {} },
  recoverWebhook: { params: failedDelivery, body: { since: "2026-01-01T00:00:00Z" } },
  listApiKeys: {},
  // Permissions within the caller's own: a key cannot create a key that exceeds it.
  createApiKey: { body: { name: "route table", permissions: ["admin:api_keys"] } },
  // A key the suite's callers (admin:api_keys, never expiring, standard tier or above) could have created: a key
  // revokes only keys that exceed it in nothing.
  revokeApiKey: {
    params: async (workspaceId) => ({
      id: (await createApiKey(db(), { workspaceId, permissions: ["admin:api_keys"], tier: "standard" })).id,
    }),
  },
};

interface DocumentedOperation {
  operationId: string;
  security?: object[];
  "x-permission"?: Permission;
  parameters?: { in: string; name: string }[];
  responses: Record<string, { "x-error-codes"?: string[] }>;
}

const document = openApiDocument();
const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  Object.entries(item as Record<string, DocumentedOperation>).map(([method, operation]) => ({
    method: method.toUpperCase(),
    path,
    operation,
  }))
);

describe("the route table", () => {
  it("has operations to test", () => {
    expect(operations.length).toBeGreaterThan(15);
  });

  it("every operation declares a permission (or is public with security: []) and has a request fixture", () => {
    const problems: string[] = [];
    for (const { method, path, operation } of operations) {
      const permission = operation["x-permission"];
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      if (!permission && !isPublic) problems.push(`${method} ${path}: no permission declared`);
      if (permission && !FIXTURES[operation.operationId]) problems.push(`${method} ${path}: no fixture in FIXTURES`);
      const hasIds = (operation.parameters ?? []).some((p) => p.in === "path");
      if (permission && hasIds && !operation.responses["404"]?.["x-error-codes"]?.length) {
        problems.push(`${method} ${path}: names a resource but declares no 404 code`);
      }
    }
    expect(problems).toEqual([]);
  });
});

for (const { method, path, operation } of operations) {
  const permission = operation["x-permission"];
  const fixture = FIXTURES[operation.operationId];
  if (!permission || !fixture) continue;
  const hasIds = (operation.parameters ?? []).some((p) => p.in === "path");
  describe(`${method} ${path}`, () => {
    securitySuite({
      method,
      permission,
      body: fixture.body,
      services: { resolveHost },
      path: async (workspaceId) => {
        const params = (await fixture.params?.(workspaceId)) ?? {};
        return path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]);
      },
      notFoundCode: hasIds ? operation.responses["404"]?.["x-error-codes"]?.[0] : undefined,
    });
  });
}
