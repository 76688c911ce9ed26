import { describe, expect, it } from "vitest";
import { generateApiKey } from "@shared/auth/api-key.ts";
import type { Permission } from "@shared/auth/permissions.ts";
import type { GatewayServices } from "@gateway/context.ts";
import { createApiKey } from "@scripts/admin/provisioning.ts";
import { expectError, expectGatewayHeaders } from "./assertions.ts";
import { ALL_PERMISSIONS, db, newKey, newTenant } from "./fixtures.ts";
import { call, gatewaySession } from "./gateway.ts";

export interface SecuritySuiteOptions {
  /** HTTP method of the route. */
  method: string;
  /**
   * The route's path below the function's base URL (e.g. `/v1/campaigns/<id>/start`), naming a resource that
   * belongs to `workspaceId` and is in a state where the call succeeds (create it here). Called once per request.
   */
  path: (workspaceId: string) => string | Promise<string>;
  /** The permission the route requires. */
  permission: Permission;
  /** A valid JSON body, sent with every request, so that only what a test varies can make it fail. */
  body?: unknown;
  /** The route's 404 code for a resource of another workspace. Leave out for collection routes. */
  notFoundCode?: string;
  /** Services of the suite's gateway (say, an offline DNS for webhook URLs). */
  services?: Partial<GatewayServices>;
}

const RATE_LIMIT_HEADERS = ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"];

/**
 * The security contract every authenticated route shares (docs/api-behaviour.md). tests/gateway/route-table.test.ts
 * calls it for every operation of the OpenAPI document; it starts its own gateway and workspaces.
 *
 * It checks: 401 missing_auth without a Bearer header; 401 invalid_key for garbage, typos, unknown, revoked and
 * expired keys; 404 `notFoundCode` for another workspace's resource; 403 insufficient_permissions naming the
 * permission for a key that has every other one; success for a key with only that permission; rate-limit headers
 * for a metered key; and on every response the X-Request-ID and JSON content-type headers.
 */
export function securitySuite(options: SecuritySuiteOptions): void {
  const { method, permission, notFoundCode } = options;

  describe(`${method} security (requires ${permission})`, () => {
    const s = gatewaySession(options.services);

    async function send(auth: { key?: string; authorization?: string }, workspaceId = s.tenant.workspaceId) {
      return call(`${s.gateway.url}${await options.path(workspaceId)}`, {
        method,
        key: auth.key,
        body: options.body,
        headers: auth.authorization === undefined ? {} : { Authorization: auth.authorization },
      });
    }

    it("401 missing_auth without an Authorization header, or without the Bearer scheme", async () => {
      for (const authorization of [undefined, "", `Basic ${s.tenant.key}`, s.tenant.key, "Bearer", "Bearer  "]) {
        const error = expectError(await send({ authorization }), 401, "missing_auth");
        expect(error.message).toContain("Authorization");
      }
    });

    it("401 invalid_key for garbage, typo'd, unknown, revoked and expired keys", async () => {
      const revoked = await createApiKey(db(), { workspaceId: s.tenant.workspaceId, permissions: [permission] });
      await db()`update public.api_keys set revoked_at = now() where id = ${revoked.id}`;
      const expired = await createApiKey(db(), { workspaceId: s.tenant.workspaceId, permissions: [permission] });
      await db()`update public.api_keys set expires_at = now() - interval '1 second' where id = ${expired.id}`;
      const last = s.tenant.key.at(-1);
      const typo = s.tenant.key.slice(0, -1) + (last === "a" ? "b" : "a");
      const keys = ["garbage", "wbk_your_api_key_here", typo, generateApiKey().key, revoked.key, expired.key];
      for (const key of keys) {
        const error = expectError(await send({ key }), 401, "invalid_key");
        expect(error).toEqual({ code: "invalid_key", message: "Invalid or expired API key" });
      }
    });

    if (notFoundCode) {
      it(`404 ${notFoundCode} for another workspace's resource, never 403`, async () => {
        const other = await newTenant();
        const error = expectError(await send({ key: s.tenant.key }, other.workspaceId), 404, notFoundCode);
        expect(error.details).toBeUndefined();
      });
    }

    it(`403 naming ${permission} for a key with every other permission`, async () => {
      const key = await newKey(s.tenant, ALL_PERMISSIONS.filter((p) => p !== permission));
      const error = expectError(await send({ key }), 403, "insufficient_permissions");
      expect(error).toEqual({
        code: "insufficient_permissions",
        message: `Missing required permission: ${permission}`,
      });
    });

    it(`a key with only ${permission} gets through`, async () => {
      const res = await send({ key: await newKey(s.tenant, [permission]) });
      expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(200);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      expectGatewayHeaders(res);
    });

    it("a metered key's responses carry the rate-limit headers, counting down; an unmetered key's do not", async () => {
      const metered = await newKey(s.tenant, [permission], "standard");
      const first = await send({ key: metered });
      const second = await send({ key: metered });
      for (const res of [first, second]) {
        for (const name of RATE_LIMIT_HEADERS) expect(res.headers.get(name), name).toMatch(/^\d+$/);
      }
      expect(Number(second.headers.get("x-ratelimit-remaining")))
        .toBe(Number(first.headers.get("x-ratelimit-remaining")) - 1);
      const unmetered = await send({ key: await newKey(s.tenant, [permission], "unmetered") });
      for (const name of RATE_LIMIT_HEADERS) expect(unmetered.headers.get(name), name).toBeNull();
    });
  });
}
