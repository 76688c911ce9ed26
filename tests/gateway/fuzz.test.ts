// Property-based fuzzing of every operation, enumerated from the OpenAPI document the route definitions generate:
// bodies and query strings generated from each operation's schemas (fitting, at the bounds, and hostile), path
// ids of the workspace's own resources, of another workspace's, and malformed ones, sent by a key with every
// permission and by one with almost none. Every answer must be a status the operation declares, with its
// envelope (call() checks each response against the document), never a 5xx; a refused request must leave the
// workspace's rows as they were, and no request may change another workspace's.
//
// The seed is fixed so a run is repeatable; FUZZ_SEED picks another, FUZZ_RUNS the runs per operation.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAMPAIGN_STATUSES } from "../../functions/_shared/campaigns/campaign.ts";
import { SUBSCRIBABLE_EVENTS } from "../../functions/_shared/webhooks/events.ts";
import { openApiDocument } from "../../functions/api-gateway/openapi/document.ts";
import { createApiKey } from "../../scripts/admin/provisioning.ts";
import { db, insertCampaign, insertEndpoint, newKey, newTenant, type TestTenant } from "../support/fixtures.ts";
import { bodyFor, type JsonSchema, type QueryParameter, queryFor, resolveHost } from "../support/fuzz-inputs.ts";
import { callOnOwnConnection, gatewaySession } from "../support/gateway.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
/** Runs for an operation with a body or query; one that takes only path ids gets a third of them. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);

interface DocumentedOperation {
  operationId: string;
  "x-permission"?: string;
  parameters?: (QueryParameter & { in: string })[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

const document = openApiDocument();
const schemas = (document.components?.schemas ?? {}) as Record<string, JsonSchema>;
const resolved = (schema: JsonSchema) => (schema.$ref ? schemas[schema.$ref.split("/").at(-1)!] : schema);

const operations = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  Object.entries(item as Record<string, DocumentedOperation>).map(([method, operation]) => ({
    method: method.toUpperCase(),
    path,
    operation,
    query: (operation.parameters ?? []).filter((p) => p.in === "query"),
    body: operation.requestBody && resolved(operation.requestBody.content["application/json"].schema),
  }))
).filter(({ operation }) => operation["x-permission"]);

/** Ids of a workspace's resources, by the path segment that names their collection (and `delivery_id`). */
type Pool = Record<string, string[]>;

/** Resources of every kind and state in the workspace, for path ids. */
async function resourcePool(workspaceId: string): Promise<Pool> {
  const campaigns = await Promise.all(CAMPAIGN_STATUSES.map((status) => insertCampaign(workspaceId, { status })));
  const webhooks = [
    await insertEndpoint(workspaceId, [...SUBSCRIBABLE_EVENTS]),
    await insertEndpoint(workspaceId, ["campaign.created"]),
  ];
  const deliveries = await db()<{ id: string }[]>`
    with ev as (insert into public.webhook_events (workspace_id, event, data)
                values (${workspaceId}, 'campaign.created', '{}') returning id)
    insert into public.webhook_deliveries (workspace_id, event_id, endpoint_id, status, attempts, completed_at)
    select ${workspaceId}, ev.id, e.id, s.status, 6, case when s.status = 'pending' then null else now() end
      from ev, unnest(${webhooks}::uuid[]) e(id), unnest(array['failed', 'pending']) s(status)
    returning id`;
  const keys = await Promise.all([["campaigns:read"], ["admin:api_keys"]].map(async (permissions) =>
    (await createApiKey(db(), { workspaceId, permissions: permissions as never, tier: "standard" })).id
  ));
  return { campaigns, webhooks, "api-keys": keys, delivery_id: deliveries.map((d) => d.id) };
}

/**
 * A fingerprint of each workspace's rows (the workspace, its campaigns, webhook endpoints, API keys, webhook
 * events and deliveries). `last_used_at` is left out: authenticating stamps it, whatever the answer.
 */
async function fingerprints(workspaceIds: string[]): Promise<Record<string, string>> {
  const rows = await db()<{ id: string; sum: string }[]>`
    select w.id::text as id, md5(concat_ws('|', to_jsonb(w)::text,
      (select string_agg(to_jsonb(t)::text, ',' order by t.id) from public.campaigns t where t.workspace_id = w.id),
      (select string_agg(to_jsonb(t)::text, ',' order by t.id) from public.webhook_endpoints t where t.workspace_id = w.id),
      (select string_agg((to_jsonb(t) - 'last_used_at')::text, ',' order by t.id) from public.api_keys t where t.workspace_id = w.id),
      (select string_agg(to_jsonb(t)::text, ',' order by t.id) from public.webhook_events t where t.workspace_id = w.id),
      (select string_agg(to_jsonb(t)::text, ',' order by t.id) from public.webhook_deliveries t where t.workspace_id = w.id)
    )) as sum
      from public.workspaces w where w.id = any(${workspaceIds}::uuid[])`;
  return Object.fromEntries(rows.map((row) => [row.id, row.sum]));
}

/** Path ids: the workspace's own, another workspace's, and malformed ones (written as they go on the wire). */
function pathId(own: string[], others: string[]): fc.Arbitrary<string> {
  const sample = own[0] ?? others[0];
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...own) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "not-a-uuid", "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
        sample.toUpperCase(), `${sample}x`, `%7B${sample}%7D`, sample.replaceAll("-", ""), sample.slice(0, 35),
        "%00", "%ED%A0%80", "1%27%20or%20%271%27%3D%271", "a".repeat(3000), encodeURIComponent("中文"), "%2e%2e",
        "0", "-1", "2147483648", "null", "undefined", "__proto__", "constructor",
      ),
    },
  );
}

const CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/merge-patch+json", ""];

const session = gatewaySession({ resolveHost });
let other: TestTenant;
let otherPool: Pool;
let weakKey: string;
const tally = { inputs: 0, statuses: new Map<number, number>() };

beforeAll(async () => {
  other = await newTenant();
  otherPool = await resourcePool(other.workspaceId);
  // Reads campaigns only: refused by every other operation.
  weakKey = await newKey(session.tenant, ["campaigns:read"]);
  console.log(`fuzz: seed ${SEED} (set FUZZ_SEED to change it), ${RUNS} runs per operation with a body or query`);
});

afterAll(() => {
  console.log(`fuzz: ${tally.inputs} inputs, statuses ${JSON.stringify(Object.fromEntries(tally.statuses))}, seed ${SEED}`);
});

describe("fuzzing every operation", () => {
  it("has operations with bodies, queries and path ids to fuzz", () => {
    expect(operations.filter((o) => o.body).length).toBeGreaterThan(3);
    expect(operations.filter((o) => o.query.length).length).toBeGreaterThan(2);
    expect(operations.filter((o) => o.path.includes("{")).length).toBeGreaterThan(8);
  });

  operations.forEach(({ method, path, operation, query, body }, index) => {
    it(`${method} ${path} (${operation.operationId})`, { timeout: 180_000 }, async () => {
      const { gateway, tenant } = session;
      const own = await resourcePool(tenant.workspaceId);
      const request = fc.record({
        path: fc.tuple(
          ...[...path.matchAll(/\{(\w+)\}/g)].map(([placeholder, name]) => {
            const kind = name === "id" ? path.split("/")[2] : name;
            if (!own[kind]) throw new Error(`${path}: resourcePool makes no ${kind} for {${name}}; add them there`);
            return pathId(own[kind], otherPool[kind]).map((id) => [placeholder, id] as const);
          }),
        ).map((ids) => ids.reduce((p, [placeholder, id]) => p.replace(placeholder, id), path)),
        query: query.length ? queryFor(query) : fc.constant(""),
        body: body ? bodyFor(body) : fc.constant(undefined),
        contentType: fc.oneof({ weight: 8, arbitrary: fc.constant("application/json") }, fc.constantFrom(...CONTENT_TYPES)),
        weakKey: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
      });
      let before = await fingerprints([tenant.workspaceId, other.workspaceId]);
      expect(Object.keys(before)).toHaveLength(2);
      const otherRows = before[other.workspaceId];

      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          // A connection per request: the test server drops one whose body it did not drain in time, which is
          // its own limit, not the gateway's answer.
          const res = await callOnOwnConnection(`${gateway.url}${input.path}${input.query}`, {
            method,
            key: input.weakKey ? weakKey : tenant.key,
            body: new TextEncoder().encode(input.body ?? ""),
            headers: input.body === undefined ? {} : { "Content-Type": input.contentType },
          });
          tally.inputs++;
          tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1);
          expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
          if (res.status >= 400) expect(res.body).toMatchObject({ error: { code: expect.any(String) } });

          const after = await fingerprints([tenant.workspaceId, other.workspaceId]);
          expect(after[other.workspaceId], "another workspace's rows changed").toBe(otherRows);
          if (res.status >= 400) {
            expect(after[tenant.workspaceId], `rows changed by a refused request (${res.status})`).toBe(before[tenant.workspaceId]);
          }
          before = after;
        }),
        { seed: SEED + index, numRuns: body || query.length ? RUNS : Math.ceil(RUNS / 3) },
      );
    });
  });

  it("reached the handlers: some inputs were accepted, others refused by validation, permission and lookup", () => {
    const count = (from: number, to: number) =>
      [...tally.statuses].filter(([status]) => status >= from && status < to).reduce((sum, [, n]) => sum + n, 0);
    expect(count(200, 300)).toBeGreaterThan(0);
    for (const status of [400, 403, 404]) expect(tally.statuses.get(status) ?? 0).toBeGreaterThan(0);
  });
});
