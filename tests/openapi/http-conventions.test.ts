// What HTTP clients, caches and integrators' tools expect of the gateway beyond the operations themselves:
// query parameters refused exactly as the document declares them, the 401 challenge, /openapi.json's caching
// and compression, HEAD, a browser's preflight, and `servers` as configured.
import { Ajv2020 } from "ajv/dist/2020.js";
import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayServicesFromEnv } from "@gateway/services.ts";
import { openApiDocument } from "@gateway/openapi/document.ts";
import { formatDocument } from "@scripts/local/openapi-file.ts";
import { expectError, expectFieldErrors } from "../support/assertions.ts";
import { databaseUrl } from "../support/fixtures.ts";
import { call, gatewaySession, type RunningGateway, startGateway } from "../support/gateway.ts";

const s = gatewaySession();
const document = openApiDocument();

/** One request as sent, and the response as received: no decompression, no body on HEAD. */
function raw(url: string, method = "GET", headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }>(
    (resolve, reject) => {
      request(url, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }));
        res.on("error", reject);
      }).on("error", reject).end();
    },
  );
}

type Parameter = { name: string; in: string; schema: { type: string; minimum?: number; maximum?: number } };

/** Every query parameter of every GET without path ids, as the document declares it. */
const queryParameters = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
  path.includes("{") ? [] : ((item.get?.parameters ?? []) as Parameter[])
    .filter((p) => p.in === "query" && p.schema.type !== "string")
    .map((parameter) => ({ path, parameter }))
);

describe("query parameters, parsed as declared", () => {
  it("covers the lists' page, per_page and include_revoked", () => {
    expect(queryParameters.map(({ path, parameter }) => `${path}?${parameter.name}`).sort()).toEqual([
      "/v1/api-keys?include_revoked",
      "/v1/api-keys?page",
      "/v1/api-keys?per_page",
      "/v1/campaigns?page",
      "/v1/campaigns?per_page",
      "/v1/webhooks?page",
      "/v1/webhooks?per_page",
    ]);
  });

  it.each(queryParameters)(
    "$path: $parameter.name takes what the document allows and refuses the rest",
    async ({ path, parameter }) => {
      const { name, schema } = parameter;
      const get = (value: string) =>
        call(`${s.gateway.url}${path}?${name}=${encodeURIComponent(value)}`, { key: s.tenant.key });
      const accepted = schema.type === "boolean"
        ? ["true", "false"]
        : [String(schema.minimum), ...(schema.maximum === undefined ? ["2"] : [String(schema.maximum)])];
      const refused = schema.type === "boolean" ? ["yes", "1", ""] : [
        String(schema.minimum! - 1),
        "1.5",
        "abc",
        "",
        ...(schema.maximum === undefined ? [] : [String(schema.maximum + 1)]),
      ];
      for (const value of accepted) expect((await get(value)).status, `${name}=${value}`).toBe(200);
      for (const value of refused) expectFieldErrors(await get(value), [name]);
    },
  );
});

describe("path ids", () => {
  it("the seed's example id is a valid request by the document, answered with the resource's 404", async () => {
    const remove = document.paths!["/v1/campaigns/{id}"].delete!;
    const id = (remove.parameters as Parameter[]).find((p) => p.in === "path")!;
    expect(new Ajv2020({ strict: false }).validate(id.schema, "cmp_abc123")).toBe(true);
    const res = await call(`${s.gateway.url}/v1/campaigns/cmp_abc123`, { method: "DELETE", key: s.tenant.key });
    expectError(res, 404, "campaign_not_found");
  });
});

describe("401 challenge (RFC 6750)", () => {
  const campaigns = () => `${s.gateway.url}/v1/campaigns`;

  it("names the realm, and says invalid_token when a key was presented", async () => {
    const missing = await call(campaigns());
    expectError(missing, 401, "missing_auth");
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="LeadLex API"');
    const invalid = await call(campaigns(), { key: "wbk_not_a_key" });
    expectError(invalid, 401, "invalid_key");
    expect(invalid.headers.get("www-authenticate")).toBe('Bearer realm="LeadLex API", error="invalid_token"');
    const several = await call(campaigns(), {
      headers: { Authorization: `Bearer ${s.tenant.key}, Bearer ${s.tenant.key}` },
    });
    expect(several.headers.get("www-authenticate")).toBe('Bearer realm="LeadLex API", error="invalid_request"');
  });

  it("names a scheme other than Bearer as such", async () => {
    const basic = await call(campaigns(), { headers: { Authorization: `Basic ${btoa("user:password")}` } });
    expect(expectError(basic, 401, "missing_auth").message)
      .toBe("Authorization scheme Basic is not supported. Use: Authorization: Bearer wbk_...");
    expect(basic.headers.get("www-authenticate")).toBe('Bearer realm="LeadLex API"');
    const bare = await call(campaigns(), { headers: { Authorization: s.tenant.key } });
    expect(expectError(bare, 401, "missing_auth").message).toMatch(
      /^Authorization header is not of the form Bearer <key>/,
    );
  });
});

describe("GET /openapi.json", () => {
  const url = () => `${s.gateway.url}/openapi.json`;
  const committed = formatDocument(document);

  it("is gzip-compressed for a client that accepts it, with a strong ETag and Cache-Control", async () => {
    const gzip = await raw(url(), "GET", { "Accept-Encoding": "br, gzip;q=0.8" });
    expect(gzip.status).toBe(200);
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(gzip.headers.vary).toBe("Accept-Encoding");
    expect(gzip.headers["cache-control"]).toBe("public, no-cache");
    expect(Number(gzip.headers["content-length"])).toBe(gzip.bytes.length);
    expect(JSON.parse(gunzipSync(gzip.bytes).toString("utf8"))).toEqual(JSON.parse(committed));
    expect(gzip.bytes.length).toBeLessThan(Buffer.byteLength(JSON.stringify(document)) / 5);

    const identity = await raw(url(), "GET", { "Accept-Encoding": "gzip;q=0, identity" });
    expect(identity.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(identity.bytes.toString("utf8"))).toEqual(JSON.parse(committed));
    // Strong (no W/), and one per representation.
    for (const res of [gzip, identity]) expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    expect(gzip.headers.etag).not.toBe(identity.headers.etag);
  });

  it("answers 304 with no body to a client that holds the current version", async () => {
    const first = await raw(url(), "GET", { "Accept-Encoding": "gzip" });
    const again = await raw(url(), "GET", { "Accept-Encoding": "gzip", "If-None-Match": String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    expect(again.headers.etag).toBe(first.headers.etag);
    const stale = await raw(url(), "GET", { "Accept-Encoding": "gzip", "If-None-Match": '"an-older-version"' });
    expect(stale.status).toBe(200);
  });

  it("answers HEAD as GET without the body", async () => {
    for (const encoding of ["gzip", "identity"]) {
      const get = await raw(url(), "GET", { "Accept-Encoding": encoding });
      const head = await raw(url(), "HEAD", { "Accept-Encoding": encoding });
      expect(head.status).toBe(200);
      expect(head.bytes.length).toBe(0);
      expect(head.headers["content-length"]).toBe(String(get.bytes.length));
      expect(head.headers.etag).toBe(get.headers.etag);
    }
  });
});

describe("HEAD on the API", () => {
  it("has GET's status, headers and Content-Length, without the body", async () => {
    for (const path of ["/health", "/v1/campaigns"]) {
      const headers = { Authorization: `Bearer ${s.tenant.key}` };
      const get = await raw(`${s.gateway.url}${path}`, "GET", headers);
      const head = await raw(`${s.gateway.url}${path}`, "HEAD", headers);
      expect(head.status, path).toBe(get.status);
      expect(head.bytes.length).toBe(0);
      expect(head.headers["content-length"], path).toBe(String(get.bytes.length));
      expect(head.headers["content-type"]).toBe("application/json; charset=utf-8");
    }
  });
});

describe("browsers (no CORS)", () => {
  it("answers a preflight with 405 saying why, and no Access-Control-Allow-Origin", async () => {
    const res = await call(`${s.gateway.url}/v1/campaigns`, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" },
    });
    const error = expectError(res, 405, "method_not_allowed");
    expect(error.message).toMatch(/CORS.*call it from your server, never from a browser/);
    expect(res.headers.get("allow")).toBe("GET, POST");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const get = await call(`${s.gateway.url}/v1/campaigns`, {
      key: s.tenant.key,
      headers: { Origin: "https://app.example.com" },
    });
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("servers", () => {
  let configured: RunningGateway;
  beforeAll(async () => {
    const services = await gatewayServicesFromEnv(
      { DATABASE_URL: databaseUrl(), SUPABASE_URL: "http://127.0.0.1:54999/" },
      { resolveHost: () => Promise.resolve([]), waitUntil: () => {} },
    );
    // Only what the configuration made of SUPABASE_URL: the document needs no database.
    configured = await startGateway({ publicUrl: services.publicUrl });
  });
  afterAll(() => configured?.close());

  it("the committed document names production; a running gateway names the URL it is configured with", async () => {
    expect(document.servers).toEqual([
      expect.objectContaining({ url: "https://{project}.supabase.co/functions/v1/api-gateway" }),
    ]);
    const served = await (await fetch(`${configured.url}/openapi.json`)).json();
    expect(served.servers).toEqual([{
      url: "http://127.0.0.1:54999/functions/v1/api-gateway",
      description: "This deployment",
    }]);
  });
});
