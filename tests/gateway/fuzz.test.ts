// Property-based fuzzing of every operation, enumerated from the OpenAPI document the route definitions generate:
// bodies and query strings generated from each operation's schemas (fitting, at the bounds, and hostile), path
// ids of the workspace's own resources, of another workspace's, and malformed ones, sent by a key with every
// permission and by one with almost none. Every answer must be a status the operation declares, with its
// envelope (call() checks each response against the document), never a 5xx; a refused request must leave the
// workspace's rows as they were, and no request may change another workspace's.
//
// Then the caller-bound rules (issue 17) under random interleavings of several keys: replays, lifetimes, revocation.
//
// The seed is fixed so a run is repeatable; FUZZ_SEED picks another, FUZZ_RUNS the runs per operation.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAMPAIGN_STATUSES } from "@shared/campaigns/campaign.ts";
import { SUBSCRIBABLE_EVENTS } from "@shared/webhooks/events.ts";
import { openApiDocument } from "@gateway/openapi/document.ts";
import { createApiKey } from "@scripts/admin/provisioning.ts";
import {
  ALL_PERMISSIONS,
  db,
  insertCampaign,
  insertEndpoint,
  newKey,
  newTenant,
  type TestTenant,
} from "../support/fixtures.ts";
import { bodyFor, type JsonSchema, queryFor, type QueryParameter, resolveHost } from "../support/fuzz-inputs.ts";
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
  const keys = await Promise.all(
    [["campaigns:read"], ["admin:api_keys"]].map(async (permissions) =>
      (await createApiKey(db(), { workspaceId, permissions: permissions as never, tier: "standard" })).id
    ),
  );
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
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        sample.toUpperCase(),
        `${sample}x`,
        `%7B${sample}%7D`,
        sample.replaceAll("-", ""),
        sample.slice(0, 35),
        "%00",
        "%ED%A0%80",
        "1%27%20or%20%271%27%3D%271",
        "a".repeat(3000),
        encodeURIComponent("中文"),
        "%2e%2e",
        "0",
        "-1",
        "2147483648",
        "null",
        "undefined",
        "__proto__",
        "constructor",
      ),
    },
  );
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "application/merge-patch+json",
  "",
];

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
  console.log(
    `fuzz: ${tally.inputs} inputs, statuses ${JSON.stringify(Object.fromEntries(tally.statuses))}, seed ${SEED}`,
  );
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
        contentType: fc.oneof(
          { weight: 8, arbitrary: fc.constant("application/json") },
          fc.constantFrom(...CONTENT_TYPES),
        ),
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
            expect(after[tenant.workspaceId], `rows changed by a refused request (${res.status})`).toBe(
              before[tenant.workspaceId],
            );
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

// Issue 17's rules under random interleavings: an Idempotency-Key's stored answer goes only to the API key that
// stored it, and keys made or revoked by a key never exceed it (permissions, tier, lifetime).
describe("fuzzing the caller-bound rules", () => {
  const TIER_RANK = { standard: 0, high: 1, unmetered: 2 } as const;
  type Tier = keyof typeof TIER_RANK;
  interface Actor {
    name: string;
    key: string;
    id: string;
    permissions: string[];
    tier: Tier;
    expiresAt: string | null;
  }

  /** Keys of one workspace, from the strongest to ones bounded by each rule. */
  async function actors(workspaceId: string): Promise<Actor[]> {
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString();
    const specs: Omit<Actor, "key" | "id">[] = [
      { name: "strong", permissions: [...ALL_PERMISSIONS], tier: "high", expiresAt: null },
      { name: "twin", permissions: [...ALL_PERMISSIONS], tier: "high", expiresAt: null },
      { name: "weak admin", permissions: ["admin:api_keys", "campaigns:read"], tier: "standard", expiresAt: null },
      { name: "expiring admin", permissions: [...ALL_PERMISSIONS], tier: "high", expiresAt: inAnHour },
    ];
    return await Promise.all(specs.map(async (spec) => {
      const made = await createApiKey(db(), {
        workspaceId,
        permissions: spec.permissions as never,
        tier: spec.tier,
        ...(spec.expiresAt ? { expiresAt: spec.expiresAt } : {}),
      });
      const [row] = await db()<
        { expires_at: Date | null }[]
      >`select expires_at from public.api_keys where id = ${made.id}`;
      return { ...spec, key: made.key, id: made.id, expiresAt: row.expires_at?.toISOString() ?? null };
    }));
  }

  /** Whether a key with these fields exceeds `caller` in nothing (api.md section 6). */
  const within = (k: { permissions: string[]; rate_limit_tier: Tier; expires_at: string | null }, caller: Actor) =>
    k.permissions.every((p) => caller.permissions.includes(p)) &&
    TIER_RANK[k.rate_limit_tier] <= TIER_RANK[caller.tier] &&
    (caller.expiresAt === null || (k.expires_at !== null && Date.parse(k.expires_at) <= Date.parse(caller.expiresAt)));

  const expiry = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.integer({ min: 60, max: 7_200 }).map((seconds) => new Date(Date.now() + seconds * 1000).toISOString()),
  );
  const apiKeyBody = fc.record({
    name: fc.constantFrom("a", "b", "c"),
    permissions: fc.subarray([...ALL_PERMISSIONS], { minLength: 1 }),
    rate_limit_tier: fc.constantFrom("standard", "high", "unmetered"),
    expires_at: expiry,
  }, { requiredKeys: ["name", "permissions"] });

  it(
    "a stored answer is replayed only to the key that stored it; another key's repeat is 422",
    { timeout: 180_000 },
    async () => {
      const { gateway } = session;
      const step = fc.record({
        actor: fc.nat(3),
        idempotencyKey: fc.nat(3),
        request: fc.oneof(
          apiKeyBody.map((body) => ({ path: "/v1/api-keys", body })),
          fc.constantFrom("x", "y").map((name) => ({ path: "/v1/campaigns", body: { name } })),
          fc.constantFrom("p", "q").map((path) => ({
            path: "/v1/webhooks",
            body: { url: `https://93.184.215.14/${path}`, events: ["campaign.created"] },
          })),
        ),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 8 }), async (steps) => {
          const t = await newTenant();
          const keys = await actors(t.workspaceId);
          const run = crypto.randomUUID();
          /** The actor whose request stored each Idempotency-Key's answer, and that answer's text. */
          const owner = new Map<number, { actor: number; text: string }>();
          /** Every API key and webhook secret shown: none may be stored in clear. */
          const secrets: string[] = [];
          for (const { actor, idempotencyKey, request } of steps) {
            const res = await callOnOwnConnection(`${gateway.url}${request.path}`, {
              method: "POST",
              key: keys[actor].key,
              body: new TextEncoder().encode(JSON.stringify(request.body)),
              headers: { "Content-Type": "application/json", "Idempotency-Key": `${run}-${idempotencyKey}` },
            });
            tally.inputs++;
            tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1);
            expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
            const stored = owner.get(idempotencyKey);
            const isReplay = res.headers.get("idempotent-replayed") === "true";
            if (stored && stored.actor !== actor) {
              // 422, unless refused before the key is looked at: no permission (403), a bad body (400).
              const code = res.body?.error?.code;
              expect(code, `${keys[actor].name} repeating ${keys[stored.actor].name}'s key: ${res.status}`)
                .toMatch(/^(idempotency_key_reused|insufficient_permissions|validation_error)$/);
              expect(isReplay).toBe(false);
            }
            if (isReplay) {
              expect(stored?.actor, "a replay to a key that stored nothing under this Idempotency-Key").toBe(actor);
              expect(res.text).toBe(stored!.text);
            }
            // What the operation itself answered is stored; refusals before it (400, 403 for the permission, 422) not.
            const beforeOperation = res.status === 400 || res.status === 422 ||
              res.body?.error?.code === "insufficient_permissions";
            if (!stored && !beforeOperation) owner.set(idempotencyKey, { actor, text: res.text });
            const secret = res.body?.data?.api_key?.key ?? res.body?.data?.webhook?.secret;
            if (secret) secrets.push(secret);
          }
          const stored = (await db()<{ text: string }[]>`
          select concat(result::text, sealed) as text from public.idempotency_keys where workspace_id = ${t.workspaceId}`)
            .map((row) => row.text).join("\n");
          expect(stored).not.toContain("whsec_");
          for (const secret of secrets) {
            expect(stored, "a secret in clear in idempotency_keys").not.toContain(secret.slice(4));
          }
        }),
        { seed: SEED, numRuns: Math.ceil(RUNS / 5) },
      );
    },
  );

  it("keys made or revoked by a key never exceed it: permissions, tier, lifetime", { timeout: 180_000 }, async () => {
    const { gateway } = session;
    const step = fc.oneof(
      fc.record({ actor: fc.nat(3), create: apiKeyBody }),
      fc.record({ actor: fc.nat(3), revoke: fc.nat(20) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const t = await newTenant();
        const keys = await actors(t.workspaceId);
        for (const s of steps) {
          const caller = keys[s.actor];
          const [self] = await db()<{ active: boolean }[]>`
            select revoked_at is null as active from public.api_keys where id = ${caller.id}`;
          if ("create" in s) {
            const body = { ...s.create, name: `${s.create.name} ${crypto.randomUUID()}` };
            const res = await callOnOwnConnection(`${gateway.url}/v1/api-keys`, {
              method: "POST",
              key: caller.key,
              body: new TextEncoder().encode(JSON.stringify(body)),
              headers: { "Content-Type": "application/json" },
            });
            tally.inputs++;
            expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
            if (!self.active) expect(res.status).toBe(401);
            if (res.status === 201) expect(within(res.body.data.api_key, caller), res.text).toBe(true);
            else if (res.status === 403 && self.active) {
              expect(res.body.error.code).toBe("key_exceeds_caller");
              const asked = {
                ...body,
                rate_limit_tier: body.rate_limit_tier as Tier,
                expires_at: body.expires_at ?? null,
              };
              expect(within(asked, caller) && asked.rate_limit_tier !== "unmetered").toBe(false);
            }
          } else {
            const targets = await db()<
              { id: string; permissions: string[]; rate_limit_tier: Tier; expires_at: Date | null }[]
            >`
              select id, permissions, rate_limit_tier, expires_at from public.api_keys
               where workspace_id = ${t.workspaceId} and revoked_at is null order by created_at, id`;
            if (targets.length === 0) continue;
            const target = targets[s.revoke % targets.length];
            const res = await callOnOwnConnection(`${gateway.url}/v1/api-keys/${target.id}`, {
              method: "DELETE",
              key: caller.key,
              body: new Uint8Array(),
            });
            tally.inputs++;
            expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
            const fields = { ...target, expires_at: target.expires_at?.toISOString() ?? null };
            if (res.status === 204) expect(within(fields, caller) || target.id === caller.id).toBe(true);
            if (res.status === 403) expect(res.body.error.code).toBe("key_exceeds_caller");
            if (self.active && !within(fields, caller)) expect(res.status).not.toBe(204);
          }
        }
      }),
      { seed: SEED + 1, numRuns: Math.ceil(RUNS / 5) },
    );
  });
});
