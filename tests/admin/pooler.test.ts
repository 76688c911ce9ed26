// The admin CLI pointed at a hosted project's database, as docs/deploy.md's "first key" section runs it. Supabase's
// transaction pooler (Supavisor, port 6543) hands each transaction to whichever server connection is free, so a
// statement prepared under a name in one transaction is missing in the next: the CLI must never name one. What it
// sends is read off the wire, through a relay in front of the real test Postgres.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl } from "../support/fixtures.ts";
import { startWireTap, type WireTap } from "../support/postgres-wire-tap.ts";
import { runAdmin } from "../support/processes.ts";

let tap: WireTap;

beforeAll(async () => {
  tap = await startWireTap(databaseUrl());
});
afterAll(() => tap.close());

async function admin(...args: string[]) {
  const res = await runAdmin(args, { DATABASE_URL: tap.url });
  expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(res.stdout);
}

describe("admin CLI through a transaction pooler", () => {
  it("mints a first workspace and key using only unnamed statements", async () => {
    const workspace = await admin("workspace", "create", "--name", "Hosted Co", "--plan", "pro");
    const key = await admin(
      "key",
      "create",
      "--workspace",
      workspace.id,
      "--permissions",
      "campaigns:read,admin:api_keys",
    );
    expect(key.key).toMatch(/^wbk_[0-9A-Za-z]{36}$/);
    const listed = await admin("key", "list", "--workspace", workspace.id);
    expect(listed.api_keys.map((k: { id: string }) => k.id)).toEqual([key.id]);

    expect(tap.parsedStatementNames.length).toBeGreaterThanOrEqual(3);
    expect(tap.parsedStatementNames.filter((name) => name !== "")).toEqual([]);
  });
});
