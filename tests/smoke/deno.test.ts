// One smoke test of the real thing: the functions under real Deno, started exactly as `npm start` starts them
// (the npm `deno` binary, the same flags, scripts/local/functions-server.ts), against the test Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, REQUEST_ID } from "../support/assertions.ts";
import { databaseUrl, newTenant } from "../support/fixtures.ts";
import { call } from "../support/gateway.ts";
import { type RunningFunctions, startDenoFunctions } from "../support/processes.ts";

let functions: RunningFunctions | undefined;

beforeAll(async () => {
  functions = await startDenoFunctions({ DATABASE_URL: databaseUrl() });
}, 120_000);
afterAll(async () => {
  await functions?.stop();
});

describe("the functions under Deno", () => {
  it("create a campaign and delete it over HTTP: 200 with the documented body, then 404", async () => {
    const tenant = await newTenant();
    const base = `${functions!.url}/api-gateway`;

    const created = await call(`${base}/v1/campaigns`, {
      method: "POST",
      key: tenant.key,
      body: { name: "Under Deno" },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.campaign).toMatchObject({ name: "Under Deno", status: "draft" });
    const id = created.body.data.campaign.id;

    const deleted = await call(`${base}/v1/campaigns/${id}`, { method: "DELETE", key: tenant.key });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ data: { deleted: true, id } });
    expect(deleted.headers.get("content-type")).toBe("application/json; charset=utf-8");

    const again = await call(`${base}/v1/campaigns/${id}`, { method: "DELETE", key: tenant.key });
    expect(expectError(again, 404, "campaign_not_found").message).toBe("No campaign with this ID");

    // One JSON log line per request on stdout, with the request id and never the key.
    const requestId = deleted.headers.get("x-request-id")!;
    const line = functions!.output().split("\n").find((l) => l.includes(requestId));
    expect(JSON.parse(line!)).toMatchObject({ status: 200, method: "DELETE", workspace_id: tenant.workspaceId });
    expect(functions!.output()).not.toContain(tenant.key);
  });

  it("the local front routes only paths that start with /functions/v1/<name>; its own 404s have the envelope and a request id", async () => {
    const origin = new URL(functions!.url).origin;
    expect((await fetch(`${origin}/functions/v1/api-gateway/health`)).status).toBe(200);
    for (
      const path of [
        "/elsewhere?next=/functions/v1/api-gateway/health",
        "/x/functions/v1/api-gateway/health",
        "/functions/v1/api-gatewayx/health",
        "/functions/v1/constructor",
        "/functions/v2/api-gateway/health",
      ]
    ) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("x-request-id"), path).toMatch(REQUEST_ID);
      expect(await res.json()).toEqual({ error: { code: "not_found", message: "No such function" } });
    }
  });
});
