// SUPABASE_SECRET_KEYS as the platform provides it to deployed functions: a JSON object of key name to secret key,
// {"default":"sb_secret_..."}. The right key reaches PostgREST; a malformed value stops the function at start-up
// with one line that names the variable, quotes nothing of the secret and carries no stack trace.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { databaseFromEnv } from "@shared/runtime/config.ts";
import { DENO_RUN_FLAGS, denoExecutable } from "@scripts/local/deno.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { databaseUrl, newTenant } from "../support/fixtures.ts";
import { type PostgrestStandIn, startPostgrestStandIn } from "../support/postgrest-stand-in.ts";

const run = promisify(execFile);
const SECRET_KEY = "sb_secret_defaultkey000000000000000000";

let standIn: PostgrestStandIn;

beforeAll(async () => {
  standIn = await startPostgrestStandIn({ databaseUrl: databaseUrl(), key: SECRET_KEY });
});
afterAll(() => standIn.close());
afterEach(() => expect(standIn.problems).toEqual([]));

async function createCampaignWith(secretKeys: string) {
  const tenant = await newTenant();
  const db = await databaseFromEnv({ SUPABASE_URL: standIn.url, SUPABASE_SECRET_KEYS: secretKeys });
  return db.rpc("create_campaign", { p_workspace_id: tenant.workspaceId, p_fields: { name: "Keyed" } });
}

describe("SUPABASE_SECRET_KEYS, well formed", () => {
  it("the key named default is the one sent, whatever else the object holds", async () => {
    const keys = JSON.stringify({ other: "sb_secret_otherkey00000000000000000000", default: SECRET_KEY });
    await expect(createCampaignWith(keys)).resolves.toMatchObject({ outcome: "ok" });
    expect(standIn.requests.at(-1)!.headers.apikey).toBe(SECRET_KEY);
  });

  it("a single key under another name is used", async () => {
    await expect(createCampaignWith(JSON.stringify({ functions: SECRET_KEY }))).resolves.toMatchObject({
      outcome: "ok",
    });
  });
});

describe("SUPABASE_SECRET_KEYS, malformed: the function refuses to start and says why", () => {
  const secret = "sb_secret_leakcheck0000000000000000000";
  it.each([
    ["not JSON", `default=${secret}`, "it is not JSON"],
    ["a bare string", JSON.stringify(secret), "it is JSON, but not an object"],
    ["an array", JSON.stringify([secret]), "it is JSON, but not an object"],
    ["an empty object", "{}", "it is an empty object"],
    [
      "a value that is not a string",
      JSON.stringify({ default: { key: secret } }),
      "every value must be a non-empty string",
    ],
    ["an empty key", JSON.stringify({ default: "" }), "every value must be a non-empty string"],
  ])("%s", async (_case, value, reason) => {
    const result = await run(denoExecutable(), [...DENO_RUN_FLAGS, "functions/api-gateway/index.ts"], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        DATABASE_URL: "",
        SUPABASE_URL: "http://127.0.0.1:9",
        SUPABASE_SECRET_KEYS: value,
        NO_COLOR: "1",
      },
      timeout: 30_000,
    }).then(() => ({ code: 0, stderr: "" }), (error: { code: number; stderr: string }) => error);
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toEqual([
      expect.stringContaining(
        `ConfigError: SUPABASE_SECRET_KEYS must be a JSON object of key name to secret key, like {"default":"sb_secret_..."}; ${reason}`,
      ),
    ]);
    expect(result.stderr).not.toContain("leakcheck");
  });
});
