// The operator CLI as an operator runs it: a child process (tsx scripts/admin.ts, what `npm run admin` runs) with
// DATABASE_URL pointing at the test database. Success: one JSON object on stdout. Bad input: a non-zero exit, a
// message on stderr, nothing on stdout.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../support/assertions.ts";
import { databaseUrl, db } from "../support/fixtures.ts";
import { call, type RunningGateway, startGateway } from "../support/gateway.ts";
import { freePort } from "../support/network.ts";
import { runAdmin } from "../support/processes.ts";

const admin = (...args: string[]) => runAdmin(args, { DATABASE_URL: databaseUrl() });

/** Runs a command that must succeed and returns its one JSON object. */
async function ok(...args: string[]) {
  const res = await admin(...args);
  expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
  const lines = res.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

let gateway: RunningGateway;
let workspace: { id: string; name: string; plan: string };

beforeAll(async () => {
  gateway = await startGateway();
  workspace = await ok("workspace", "create", "--name", "CLI Co", "--plan", "pro");
}, 60_000);
afterAll(() => gateway.close());

describe("admin CLI", () => {
  it("workspace create prints the workspace", async () => {
    expect(workspace).toEqual({ id: expect.any(String), name: "CLI Co", plan: "pro" });
    expect(await db()`select name, plan from public.workspaces where id = ${workspace.id}`).toEqual([
      { name: "CLI Co", plan: "pro" },
    ]);
    // The plan defaults to starter.
    expect(await ok("workspace", "create", "--name", "Defaults")).toMatchObject({ plan: "starter" });
  });

  it("key create prints the key once; it works against the gateway, and list never shows it; revoke stops it at once", async () => {
    const created = await ok(
      "key",
      "create",
      "--workspace",
      workspace.id,
      "--permissions",
      "campaigns:read,webhooks:read",
      "--tier",
      "high",
      "--expires-at",
      "2099-01-01T00:00:00Z",
    );
    expect(Object.keys(created).sort()).toEqual([
      "expires_at",
      "id",
      "key",
      "permissions",
      "prefix",
      "rate_limit_tier",
    ]);
    expect(created).toMatchObject({
      permissions: ["campaigns:read", "webhooks:read"],
      rate_limit_tier: "high",
      expires_at: "2099-01-01T00:00:00.000Z",
    });
    expect(created.key).toMatch(/^wbk_[0-9A-Za-z]{36}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);

    const list = () => call(`${gateway.url}/v1/campaigns`, { key: created.key });
    const listed = await list();
    expect(listed.status).toBe(200);
    expect(listed.headers.get("x-ratelimit-limit")).toBe("10000"); // pro, ten times: the high tier
    // The key has exactly the permissions given.
    const write = await call(`${gateway.url}/v1/campaigns`, { method: "POST", key: created.key, body: { name: "no" } });
    expect(expectError(write, 403, "insufficient_permissions").message).toBe(
      "Missing required permission: campaigns:write",
    );

    const { stdout } = await admin("key", "list", "--workspace", workspace.id);
    const keys = JSON.parse(stdout).api_keys;
    expect(keys.map((k: { id: string }) => k.id)).toContain(created.id);
    const [hash] = await db()`select encode(key_hash, 'hex') as hex from public.api_keys where id = ${created.id}`;
    expect(stdout).not.toContain(created.key);
    expect(stdout).not.toContain(created.key.slice(12));
    expect(stdout.toLowerCase()).not.toContain(hash.hex);
    expect(keys.find((k: { id: string }) => k.id === created.id)).toMatchObject({
      prefix: created.prefix,
      revoked_at: null,
    });

    const revoked = await ok("key", "revoke", created.id);
    expect(revoked).toEqual({ id: created.id, revoked_at: expect.any(String) });
    expect(expectError(await list(), 401, "invalid_key").message).toBe("Invalid or expired API key");
  });

  it("key create refuses a name an active key of the workspace already has", async () => {
    const args = ["key", "create", "--workspace", workspace.id, "--permissions", "campaigns:read", "--name", "ops"];
    await ok(...args);
    const res = await admin(...args);
    expect({ code: res.code, stdout: res.stdout }).toEqual({ code: 1, stdout: "" });
    expect(res.stderr).toMatch(/^admin: an active key named "ops" already exists in this workspace\n$/);
  });

  it.each([
    [
      "an unknown plan",
      ["workspace", "create", "--name", "X", "--plan", "enterprise"],
      /plan must be one of: starter, pro, org/,
    ],
    ["a missing --name", ["workspace", "create"], /missing --name/],
    ["an unknown permission", [
      "key",
      "create",
      "--workspace",
      "WS",
      "--permissions",
      "campaigns:read,campaigns:delete",
    ], /unknown permission\(s\): campaigns:delete/],
    ["no permissions", ["key", "create", "--workspace", "WS", "--permissions", ","], /at least one permission/],
    ["a missing --workspace", ["key", "create", "--permissions", "campaigns:read"], /missing --workspace/],
    [
      "an unknown tier",
      ["key", "create", "--workspace", "WS", "--permissions", "campaigns:read", "--tier", "gold"],
      /tier must be one of/,
    ],
    ["a bad --expires-at", [
      "key",
      "create",
      "--workspace",
      "WS",
      "--permissions",
      "campaigns:read",
      "--expires-at",
      "next tuesday",
    ], /--expires-at must be an ISO 8601 time/],
    ["a number as --expires-at", [
      "key",
      "create",
      "--workspace",
      "WS",
      "--permissions",
      "campaigns:read",
      "--expires-at",
      "1",
    ], /--expires-at must be an ISO 8601 time/],
    ["an --expires-at February lacks", [
      "key",
      "create",
      "--workspace",
      "WS",
      "--permissions",
      "campaigns:read",
      "--expires-at",
      "2099-02-30",
    ], /--expires-at must be an ISO 8601 time/],
    ["an --expires-at in the past", [
      "key",
      "create",
      "--workspace",
      "WS",
      "--permissions",
      "campaigns:read",
      "--expires-at",
      "2020-01-01T00:00:00Z",
    ], /in the past/],
    ["a nonexistent workspace", [
      "key",
      "create",
      "--workspace",
      "00000000-0000-4000-8000-000000000000",
      "--permissions",
      "campaigns:read",
    ], /no workspace with id 00000000-0000-4000-8000-000000000000/],
    [
      "a workspace id that is not a UUID",
      ["key", "create", "--workspace", "acme", "--permissions", "campaigns:read"],
      /no workspace with id acme/,
    ],
    [
      "listing a nonexistent workspace",
      ["key", "list", "--workspace", "00000000-0000-4000-8000-000000000000"],
      /no workspace with id/,
    ],
    ["revoking a nonexistent key", ["key", "revoke", "00000000-0000-4000-8000-000000000000"], /no API key with id/],
    ["an unknown command", ["key", "rotate"], /unknown command: key rotate/],
    ["no command", [], /unknown command: \(none\)/],
    ["an unknown flag", ["workspace", "create", "--name", "X", "--colour", "red"], /Unknown option '--colour'/],
  ])("refuses %s: non-zero exit, a message on stderr, nothing on stdout", async (_, args, message) => {
    const res = await admin(...args.map((a) => (a === "WS" ? workspace.id : a)));
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/^admin: /);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("says which database it cannot reach, without the password", async () => {
    const res = await runAdmin(["workspace", "create", "--name", "X"], {
      DATABASE_URL: `postgresql://postgres:s3cret@127.0.0.1:${await freePort()}/postgres`,
    });
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/cannot reach the database at 127\.0\.0\.1:\d+\/postgres \(from DATABASE_URL\)/);
    expect(res.stderr).not.toContain("s3cret");
  });
});
