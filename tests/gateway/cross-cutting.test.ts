import { describe, expect, it } from "vitest";
import type { Database } from "@shared/db/database.ts";
import { createPostgresDatabase } from "@shared/db/postgres-database.ts";
import { expectError, expectFieldErrors, expectGatewayHeaders, REQUEST_ID } from "../support/assertions.ts";
import { databaseUrl, db, insertCampaign, newKey, newTenant } from "../support/fixtures.ts";
import { call, callOnOwnConnection, gatewaySession, startGateway } from "../support/gateway.ts";
import { setCounter } from "../support/rate-limit.ts";

const s = gatewaySession();

const MIB = 1024 * 1024;

/** A campaign body of exactly `bytes` bytes (its template padded), valid JSON whatever the size. */
function bodyOfSize(bytes: number): string {
  const head = '{"name":"big","template":"';
  const tail = '"}';
  return head + "x".repeat(bytes - head.length - tail.length) + tail;
}

async function campaignCount(workspaceId: string): Promise<number> {
  const [row] = await db()<{ n: number }[]>`
    select count(*)::int as n from public.campaigns where workspace_id = ${workspaceId}`;
  return row.n;
}

describe("routing", () => {
  it("unknown routes: 404 not_found with a request id that the log line carries too", async () => {
    const origin = new URL(s.gateway.url).origin;
    const deployed = s.gateway.url.replace("/functions/v1", "");
    const urls = [
      `${s.gateway.url}/v1/nothing`,
      `${s.gateway.url}/v2/campaigns`,
      `${s.gateway.url}/v1/campaigns/${crypto.randomUUID()}/archive`,
      `${deployed}/v1/nothing`,
      `${origin}/`,
      `${origin}/functions/v1/another-function/v1/campaigns`,
    ];
    const ids = new Set<string>();
    for (const url of urls) {
      const res = await call(url, { key: s.tenant.key });
      expectError(res, 404, "not_found");
      const requestId = res.headers.get("x-request-id")!;
      ids.add(requestId);
      expect(s.gateway.logs.find((line) => line.request_id === requestId)).toMatchObject({ status: 404 });
    }
    expect(ids.size).toBe(urls.length);
  });

  it.each([
    ["PUT", "/v1/campaigns", "GET, POST"],
    ["DELETE", "/v1/campaigns", "GET, POST"],
    ["POST", "/v1/campaigns/:id", "DELETE, GET, PATCH"],
    ["PUT", "/v1/campaigns/:id", "DELETE, GET, PATCH"],
    ["GET", "/v1/campaigns/:id/start", "POST"],
    ["DELETE", "/v1/campaigns/:id/pause", "POST"],
    ["POST", "/health", "GET"],
  ])("%s %s: 405 method_not_allowed, Allow: %s", async (method, path, allow) => {
    const concrete = path.replace(":id", crypto.randomUUID());
    for (const base of [s.gateway.url, s.gateway.url.replace("/functions/v1", "")]) {
      const res = await call(`${base}${concrete}`, { method, key: s.tenant.key });
      expectError(res, 405, "method_not_allowed");
      expect(res.headers.get("allow")?.split(", ").sort().join(", ")).toBe(allow);
    }
  });

  it("a bearer token that cannot be a key is 401 invalid_key on any /v1 path, before the route is looked up", async () => {
    const deployed = s.gateway.url.replace("/functions/v1", "");
    const attempts: [string, string][] = [
      ["GET", `${s.gateway.url}/v1/nothing`], // no route: 404 with a good key
      ["PUT", `${s.gateway.url}/v1/campaigns`], // 405 with a good key
      ["OPTIONS", `${deployed}/v1/campaigns`],
      ["DELETE", `${deployed}/v1/campaigns/not-a-uuid`], // 404 campaign_not_found with a good key
    ];
    for (const [method, url] of attempts) {
      const res = await call(url, { method, key: "wbk_garbage" });
      expectError(res, 401, "invalid_key");
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="LeadLex API", error="invalid_token"');
      const line = s.gateway.logs.find((l) => l.request_id === res.headers.get("x-request-id"));
      expect(line).toMatchObject({ status: 401, method, workspace_id: null, key_prefix: null });
    }
    // Several credentials are refused as such, whatever they hold.
    const several = await call(`${s.gateway.url}/v1/nothing`, { headers: { Authorization: "Bearer a, Bearer b" } });
    expectError(several, 404, "not_found");
    // Outside /v1 no key is asked for, and a bad one changes nothing.
    expect((await call(`${s.gateway.url}/health`, { key: "wbk_garbage" })).status).toBe(200);
    expect((await call(`${deployed}/openapi.json`, { key: "wbk_garbage" })).status).toBe(200);
  });

  it("a trailing slash names the same route", async () => {
    const list = await call(`${s.gateway.url}/v1/campaigns/`, { key: s.tenant.key });
    expect(list.status).toBe(200);
    expect(list.body.data.campaigns).toBeInstanceOf(Array);
    expect((await call(`${s.gateway.url}/health/`)).body).toEqual({ status: "ok" });
  });
});

describe("request bodies", () => {
  it("413 payload_too_large for a body over 1 MiB, with Content-Length and chunked", async () => {
    const t = await newTenant();
    const send = (body: string, chunked: boolean) =>
      callOnOwnConnection(`${s.gateway.url}/v1/campaigns`, {
        method: "POST",
        key: t.key,
        headers: { "Content-Type": "application/json" },
        body: new TextEncoder().encode(body),
        chunked,
      });
    for (const chunked of [false, true]) {
      const error = expectError(await send(bodyOfSize(MIB + 1), chunked), 413, "payload_too_large");
      expect(error.message).toContain("1 MiB");
      // Exactly 1 MiB is read and judged on its content: the template is too long for a campaign.
      expectFieldErrors(await send(bodyOfSize(MIB), chunked), ["template"]);
    }
    expect(await campaignCount(t.workspaceId)).toBe(0);
  });

  it("415 unsupported_media_type for a body that is not sent as application/json", async () => {
    const t = await newTenant();
    const json = JSON.stringify({ name: "typed" });
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/jsonx", undefined]) {
      const res = await call(`${s.gateway.url}/v1/campaigns`, {
        method: "POST",
        key: t.key,
        rawBody: new TextEncoder().encode(json),
        headers: contentType ? { "Content-Type": contentType } : {},
      });
      expectError(res, 415, "unsupported_media_type");
    }
    expect(await campaignCount(t.workspaceId)).toBe(0);
    for (const contentType of ["application/json; charset=utf-8", "APPLICATION/JSON"]) {
      const res = await call(`${s.gateway.url}/v1/campaigns`, {
        method: "POST",
        key: t.key,
        body: json,
        headers: { "Content-Type": contentType },
      });
      expect(res.status, contentType).toBe(201);
    }
  });

  it.each(['{"name":', "{'name':'x'}", "name=x", '{"name":"x"} trailing', ""])(
    "400 validation_error for a body that is not JSON: %j",
    async (raw) => {
      const res = await call(`${s.gateway.url}/v1/campaigns`, {
        method: "POST",
        key: s.tenant.key,
        rawBody: raw,
        headers: { "Content-Type": "application/json" },
      });
      const error = expectError(res, 400, "validation_error");
      expect(error.message).toMatch(/JSON/);
    },
  );
});

describe("GET /health", () => {
  it("200 {status: ok} without auth, on both path prefixes", async () => {
    for (const base of [s.gateway.url, s.gateway.url.replace("/functions/v1", "")]) {
      const res = await call(`${base}/health`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "ok" });
      expectGatewayHeaders(res);
    }
  });

  it("503 when the database cannot be reached: {status: unavailable}, and service_unavailable for API calls", async () => {
    const dead = createPostgresDatabase("postgresql://postgres:postgres@127.0.0.1:1/postgres", { timeoutMs: 2_000 });
    const down = await startGateway({ db: dead });
    try {
      const health = await call(`${down.url}/health`);
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: "unavailable" });
      expectGatewayHeaders(health);
      expectError(await call(`${down.url}/v1/campaigns`, { key: s.tenant.key }), 503, "service_unavailable");
    } finally {
      await down.close();
      await dead.close();
    }
  });
});

describe("failures", () => {
  it("500 internal_error never shows internals; the log line for the request id has them", async () => {
    const real = createPostgresDatabase(databaseUrl(), { maxConnections: 2 });
    const broken: Database = {
      rpc: (name, args) =>
        name === "gateway_request" && (args as { p_rpc?: string }).p_rpc === "get_campaign"
          ? Promise.reject(new Error('relation "secret_table" does not exist'))
          : real.rpc(name, args),
    };
    const failing = await startGateway({ db: broken });
    try {
      const res = await call(`${failing.url}/v1/campaigns/${crypto.randomUUID()}`, { key: s.tenant.key });
      expectError(res, 500, "internal_error");
      expect(res.text).not.toContain("secret_table");
      const line = failing.logs.find((l) => l.request_id === res.headers.get("x-request-id"));
      expect(line).toMatchObject({ level: "error", status: 500 });
      expect(String(line?.error)).toContain("secret_table");
    } finally {
      await failing.close();
      await real.close();
    }
  });
});

describe("order of checks: 401 -> 429 -> 403 -> 400 -> 404/409", () => {
  const create = (init: Parameters<typeof call>[1]) =>
    call(`${s.gateway.url}/v1/campaigns`, { method: "POST", ...init });

  it("no auth beats a bad body", async () => {
    const raw = { rawBody: '{"name":', headers: { "Content-Type": "text/plain" } };
    expectError(await create(raw), 401, "missing_auth");
    expectError(await create({ ...raw, key: "wbk_garbage" }), 401, "invalid_key");
    expectError(await create({ body: { colour: "red" } }), 401, "missing_auth");
  });

  it("403 beats 400, and 404", async () => {
    const readOnly = await newKey(s.tenant, ["campaigns:read"]);
    expectError(await create({ key: readOnly, body: { colour: "red" } }), 403, "insufficient_permissions");
    expectError(
      await create({ key: readOnly, rawBody: "{", headers: { "Content-Type": "text/plain" } }),
      403,
      "insufficient_permissions",
    );
    const patch = await call(`${s.gateway.url}/v1/campaigns/${crypto.randomUUID()}`, {
      method: "PATCH",
      key: readOnly,
      body: { colour: "red" },
    });
    expectError(patch, 403, "insufficient_permissions");
  });

  it("429 beats 403", async () => {
    const starter = await newTenant({ plan: "starter", tier: "standard", permissions: ["campaigns:read"] });
    await setCounter(starter.workspaceId, { day: 100 });
    const res = await create({ key: starter.key, body: { name: "x" } });
    expectError(res, 429, "rate_limited");
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("400 beats 404 and 409", async () => {
    const completed = await insertCampaign(s.tenant.workspaceId, { status: "completed" });
    for (const id of [crypto.randomUUID(), completed]) {
      const res = await call(`${s.gateway.url}/v1/campaigns/${id}`, {
        method: "PATCH",
        key: s.tenant.key,
        body: { name: "" },
      });
      expectFieldErrors(res, ["name"]);
    }
  });

  it("every response, whatever its outcome, has a distinct request id", async () => {
    const responses = await Promise.all([
      call(`${s.gateway.url}/health`),
      call(`${s.gateway.url}/v1/campaigns`),
      call(`${s.gateway.url}/v1/campaigns`, { key: s.tenant.key }),
      call(`${s.gateway.url}/v1/unknown`),
    ]);
    const ids = responses.map((r) => r.headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(REQUEST_ID);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
