// `npm run deploy`, end to end, as an operator runs it from a checkout, with the pinned CLI. Two stand-ins only: the
// Management API recorder (tests/support/management-api-recorder.ts) and, as the project's database, a database
// of its own in the test Postgres, bootstrapped with today's hosted defaults and nothing else, plus a Vault
// stand-in (tests/support/vault-stand-in.ts: the embedded Postgres has no supabase_vault). The deployed functions
// are the real gateway and dispatcher apps on that database, behind a local front at the project URL.
import { serve, type ServerType } from "@hono/node-server";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, type PostgresDatabase } from "@shared/db/postgres-database.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { type RunningDispatcher, startDispatcher } from "../support/dispatcher.ts";
import { databaseUrl } from "../support/fixtures.ts";
import { expectedUpload, upload } from "../support/function-uploads.ts";
import { type RunningGateway, startGateway } from "../support/gateway.ts";
import { type ManagementApiRecorder, startManagementApiRecorder } from "../support/management-api-recorder.ts";
import { freePort } from "../support/network.ts";
import { installVaultStandIn } from "../support/vault-stand-in.ts";

const REF = "lexdeploytestprojabc";
const TOKEN = `sbp_${"a1b2c3d4e5".repeat(4)}`;
const FUNCTIONS = ["api-gateway", "webhook-dispatcher"];
const DEPLOY_TIMEOUT_MS = 180_000;

let recorder: ManagementApiRecorder;
let scratch: string;
let checkout: string;
let home: string;
let profile: string;
let projectDbName: string;
let projectDbUrl: string;
let projectSql: postgres.Sql;
let functionsDb: PostgresDatabase;
let gateway: RunningGateway;
let dispatcher: RunningDispatcher | undefined;
let front: ServerType;
let projectUrl: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run -s deploy -- <args>` in the checkout; `env` replaces the operator's settings it names. */
function deploy(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const base: Record<string, string | undefined> = {
    ...process.env,
    // A home of its own: the developer's own `supabase login` must not count, nor their linked project.
    HOME: home,
    SUPABASE_ACCESS_TOKEN: TOKEN,
    SUPABASE_PROFILE: profile,
    DATABASE_URL: projectDbUrl,
    ...env,
  };
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["run", "-s", "deploy", "--", ...args],
      { cwd: checkout, env: base, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

/** The digests the Management API lists, as `supabase secrets list` shows them. */
async function listedDigests(): Promise<Record<string, string>> {
  const res = await fetch(`${recorder.url}/v1/projects/${REF}/secrets`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return Object.fromEntries((await res.json() as { name: string; value: string }[]).map((s) => [s.name, s.value]));
}

async function vault(name: string): Promise<{ value: string; updated_at: Date } | undefined> {
  const [row] = await projectSql<{ value: string; updated_at: Date }[]>`
    select decrypted_secret as value, updated_at from vault.decrypted_secrets where name = ${name}`;
  return row;
}

/** Requests the recorder received after `from` that change something on the project. */
const writes = (from: number) =>
  recorder.requests.slice(from).filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.url}`);

beforeAll(async () => {
  recorder = await startManagementApiRecorder({ projectRef: REF, accessToken: TOKEN });
  scratch = await mkdtemp(path.join(tmpdir(), "leadlex-deploy-command-"));
  home = path.join(scratch, "home");
  await mkdir(home);
  // A CLI profile is either a built-in name or a file; SUPABASE_PROFILE points the CLI at this one.
  profile = path.join(scratch, "profile.json");
  await writeFile(
    profile,
    JSON.stringify({
      name: "recorder",
      api_url: recorder.url,
      dashboard_url: `${recorder.url}/dashboard`,
      project_host: "supabase.red",
    }),
  );

  // A checkout of its own, so that linking writes supabase/.temp there and not in the developer's.
  checkout = path.join(scratch, "checkout");
  for (
    const entry of [
      "package.json",
      "deno.json",
      "tsconfig.json",
      "functions",
      "scripts",
      "supabase/config.toml",
      "supabase/migrations",
    ]
  ) {
    await cp(path.join(PROJECT_ROOT, entry), path.join(checkout, entry), { recursive: true });
  }
  await symlink(path.join(PROJECT_ROOT, "node_modules"), path.join(checkout, "node_modules"));

  // The project's database as a new hosted project has it: the bootstrap's roles and default privileges, Vault,
  // and no migration yet.
  projectDbName = `leadlex_deploy_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${projectDbName}`);
  await admin.end();
  const url = new URL(databaseUrl());
  url.pathname = `/${projectDbName}`;
  url.searchParams.set("sslmode", "disable");
  projectDbUrl = url.toString();
  projectSql = postgres(projectDbUrl, { max: 2, onnotice: () => {} });
  await projectSql.file(path.join(PROJECT_ROOT, "scripts", "local", "bootstrap.sql"));
  await installVaultStandIn(projectSql);

  // Where Supabase routes /functions/v1/<name> to each function: the gateway from the start, the dispatcher once
  // a test starts it with the secret the deploy set.
  functionsDb = createPostgresDatabase(projectDbUrl, { maxConnections: 4 });
  gateway = await startGateway({ db: functionsDb });
  front = await new Promise((resolve) => {
    const server = serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        const { pathname, search } = new URL(req.url);
        const target = pathname.startsWith("/functions/v1/api-gateway")
          ? gateway.url.replace(/\/functions\/v1\/api-gateway$/, "")
          : pathname.startsWith("/functions/v1/webhook-dispatcher") && dispatcher
          ? dispatcher.url.replace(/\/functions\/v1\/webhook-dispatcher$/, "")
          : undefined;
        if (!target) return new Response(JSON.stringify({ message: "no such function" }), { status: 404 });
        const headers = new Headers(req.headers);
        for (const hop of ["host", "connection", "content-length"]) headers.delete(hop);
        const res = await fetch(`${target}${pathname}${search}`, {
          method: req.method,
          headers,
          body: req.method === "GET" ? undefined : await req.arrayBuffer(),
        });
        // fetch decodes a compressed body (GET /openapi.json), so the encoding and length no longer describe it.
        const answer = new Headers(res.headers);
        for (const stale of ["content-encoding", "content-length"]) answer.delete(stale);
        return new Response(res.body, { status: res.status, headers: answer });
      },
    }, () => resolve(server));
  });
  projectUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
}, DEPLOY_TIMEOUT_MS);

afterAll(async () => {
  await dispatcher?.close();
  await gateway?.close();
  await new Promise((resolve) => front?.close(resolve));
  await functionsDb?.close();
  await projectSql?.end();
  await recorder?.close();
  if (projectDbName) {
    const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${projectDbName} with (force)`);
    await admin.end();
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, DEPLOY_TIMEOUT_MS);

describe("npm run deploy -- --project-ref <ref>", () => {
  let first: Run;

  it("--dry-run prints the plan and changes nothing", async () => {
    const from = recorder.requests.length;
    const dry = await deploy(["--project-ref", REF, "--project-url", projectUrl, "--dry-run"]);
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    const migrations = (await readdir(path.join(PROJECT_ROOT, "supabase", "migrations"))).sort();
    expect(dry.stdout).toContain(
      `${migrations.length} pending:\n${migrations.map((m) => `        ${m}`).join("\n")}\n`,
    );
    expect(dry.stdout).toContain("would apply them (supabase db push)");
    expect(dry.stdout).toContain("would change: created, in Vault and the functions");
    expect(dry.stdout).toContain(`would deploy ${FUNCTIONS.join(", ")}`);
    expect(writes(from)).toEqual([]);
    expect(await projectSql`select 1 from pg_namespace where nspname = 'supabase_migrations'`).toHaveLength(0);
    expect(await vault("dispatcher_secret")).toBeUndefined();
  }, DEPLOY_TIMEOUT_MS);

  it(
    "a first run applies every migration, sets one dispatcher secret in both places, deploys both functions and checks the gateway",
    async () => {
      first = await deploy(["--project-ref", REF, "--project-url", projectUrl]);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      const steps = first.stdout.split("\n").filter((line) => /^\[\d\/6\]/.test(line));
      expect(steps).toEqual([
        "[1/6] prerequisites",
        "[2/6] link",
        "[3/6] migrations",
        "[4/6] dispatcher secret",
        "[5/6] functions",
        "[6/6] check",
      ]);

      const migrations = (await readdir(path.join(PROJECT_ROOT, "supabase", "migrations"))).sort();
      expect(first.stdout).toContain(`applied ${migrations.length}`);
      const applied = await projectSql<{ version: string }[]>`
      select version from supabase_migrations.schema_migrations order by version`;
      expect(applied.map((r) => r.version)).toEqual(migrations.map((m) => m.split("_")[0]));

      // The same value in Vault (where the cron job reads it) and in the functions' secrets, compared by digest as
      // `supabase secrets list` shows it.
      const secret = await vault("dispatcher_secret");
      expect(secret).toBeDefined();
      expect((await listedDigests()).DISPATCHER_SECRET).toBe(sha256(secret!.value));
      expect((await vault("project_url"))?.value).toBe(projectUrl);
      // Never printed, never on the CLI's command line (the recorder saw it only in the secrets request's body).
      expect(first.stdout + first.stderr).not.toContain(secret!.value);
      expect(first.stdout).toContain(
        `created, in Vault and the functions (digest ${sha256(secret!.value).slice(0, 12)}…)`,
      );

      for (const slug of FUNCTIONS) {
        const { metadata, files } = await upload(recorder.requests, REF, slug);
        expect(metadata).toMatchObject({
          name: slug,
          entrypoint_path: `functions/${slug}/index.ts`,
          verify_jwt: false,
        });
        expect([...files.keys()].sort()).toEqual(await expectedUpload(slug));
      }
      expect(first.stdout).toContain(`deployed ${FUNCTIONS.join(", ")}`);

      // The embedded Postgres has neither pg_cron nor pg_net, so the migrations scheduled nothing, and it says so.
      expect(first.stdout).toContain("note: no pg_cron job webhook-dispatcher");
      expect(first.stdout).toMatch(/\/openapi\.json: OpenAPI 3\.\d\.\d, \d+ paths/);
      expect(first.stdout).toContain(`Deployed.\nThe API: ${projectUrl}/functions/v1/api-gateway\n`);
      expect(first.stdout).toContain("npm run -s admin -- workspace create");
    },
    DEPLOY_TIMEOUT_MS,
  );

  it("the cron job's request, made from that database's Vault, is accepted by a dispatcher started with the deployed secret", async () => {
    // The URL and headers exactly as the webhook-dispatcher job builds them (20261130001010_webhook_retention_and_
    // fan_out.sql), here without pg_net: the embedded Postgres has neither it nor pg_cron.
    const [job] = await projectSql<{ url: string; headers: Record<string, string> }[]>`
      select s.project_url || '/functions/v1/webhook-dispatcher' as url,
             jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || s.dispatcher_secret)
               as headers
        from (select (select decrypted_secret from vault.decrypted_secrets where name = 'project_url') as project_url,
                     (select decrypted_secret from vault.decrypted_secrets where name = 'dispatcher_secret')
                       as dispatcher_secret) as s`;
    // The function's environment is what the platform holds for it: the value the deploy set through the API.
    dispatcher = await startDispatcher({ db: functionsDb, secret: recorder.secrets.get("DISPATCHER_SECRET") });

    const accepted = await fetch(job.url, { method: "POST", headers: job.headers, body: "{}" });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ data: { accepted: true } });

    const wrong = await fetch(job.url, {
      method: "POST",
      headers: { ...job.headers, Authorization: "Bearer not-it" },
      body: "{}",
    });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
    await dispatcher.close();
    dispatcher = undefined;
  });

  it("a second run changes nothing", async () => {
    const from = recorder.requests.length;
    const before = { secret: await vault("dispatcher_secret"), url: await vault("project_url") };
    const second = await deploy(["--project-ref", REF, "--project-url", projectUrl]);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`already linked to ${REF}`);
    expect(second.stdout).toContain("      up to date\n");
    expect(second.stdout).toContain("kept: Vault and the functions hold the same value");
    expect(second.stdout).toContain(`unchanged since the last deploy: ${FUNCTIONS.join(", ")}`);
    expect(second.stdout).toContain("Nothing to change: the project already runs this checkout.\n");
    expect(writes(from)).toEqual([]);
    expect(await vault("dispatcher_secret")).toEqual(before.secret);
    expect(await vault("project_url")).toEqual(before.url);
  }, DEPLOY_TIMEOUT_MS);

  it("a function secret set by hand to another value is set back from Vault", async () => {
    const inVault = (await vault("dispatcher_secret"))!.value;
    // As `supabase secrets set DISPATCHER_SECRET=...` by hand would leave it.
    recorder.secrets.set("DISPATCHER_SECRET", "set-by-hand");
    const run = await deploy(["--project-ref", REF, "--project-url", projectUrl]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("the functions' copy differs from Vault's: set from Vault");
    expect((await vault("dispatcher_secret"))!.value).toBe(inVault);
    expect((await listedDigests()).DISPATCHER_SECRET).toBe(sha256(inVault));
  }, DEPLOY_TIMEOUT_MS);

  it("--rotate-dispatcher-secret replaces it, again the same value in both places", async () => {
    const old = (await vault("dispatcher_secret"))!.value;
    const rotated = await deploy(["--project-ref", REF, "--project-url", projectUrl, "--rotate-dispatcher-secret"]);
    expect(rotated.stderr).toBe("");
    expect(rotated.code).toBe(0);
    const now = (await vault("dispatcher_secret"))!.value;
    expect(now).not.toBe(old);
    expect((await listedDigests()).DISPATCHER_SECRET).toBe(sha256(now));
    expect(rotated.stdout).toContain(
      "replaced with a new value (--rotate-dispatcher-secret), in Vault and the functions",
    );
    expect(rotated.stdout + rotated.stderr).not.toContain(now);
  }, DEPLOY_TIMEOUT_MS);
});

describe("npm run deploy fails fast, with one line that says which step and what to do", () => {
  /** Nothing on stdout past the first step's heading, and exactly one line on stderr. */
  function expectOneLine(run: Run, line: string) {
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("[1/6] prerequisites\n");
    expect(run.stderr).toBe(`${line}\n`);
  }

  it("no access token", async () => {
    const run = await deploy(["--project-ref", REF], { SUPABASE_ACCESS_TOKEN: undefined });
    expectOneLine(
      run,
      "deploy failed at prerequisites: no Supabase access token: run `npx supabase login` (or set SUPABASE_ACCESS_TOKEN), then this again",
    );
  });

  it("a project ref this account does not have", async () => {
    const run = await deploy(["--project-ref", "zyxwvutsrqponmlkjihg"]);
    expectOneLine(
      run,
      "deploy failed at prerequisites: no project zyxwvutsrqponmlkjihg among the 1 this access token can see: check --project-ref (the 20 letters in the dashboard's URL)",
    );
  });

  it("the Management API cannot be reached", async () => {
    const dead = path.join(scratch, "dead-profile.json");
    const port = await freePort();
    await writeFile(
      dead,
      JSON.stringify({
        name: "dead",
        api_url: `http://127.0.0.1:${port}`,
        dashboard_url: `http://127.0.0.1:${port}/dashboard`,
        project_host: "supabase.red",
      }),
    );
    const run = await deploy(["--project-ref", REF], { SUPABASE_PROFILE: dead });
    expectOneLine(
      run,
      `deploy failed at prerequisites: the Supabase Management API at http://127.0.0.1:${port} cannot be reached: check the network, then run this again`,
    );
  });

  it("no DATABASE_URL", async () => {
    const run = await deploy(["--project-ref", REF], { DATABASE_URL: undefined });
    expectOneLine(
      run,
      'deploy failed at prerequisites: DATABASE_URL is not set: export the project\'s connection string (dashboard, Connect; README, "Deploying to Supabase"), then run this again',
    );
  });
});
