// `npm run deploy -- --project-ref <ref>`: from a clone to a working hosted project with the pinned Supabase CLI.
// Checks what it needs first, then links, applies the migrations, puts the dispatcher's shared secret where the
// functions and the cron job read it, deploys both functions and calls the deployed gateway. Safe to run again:
// every step first looks at what is there and changes only what is not right. Each failure is one line naming the
// step and what to do; no secret is ever printed (a SHA-256 digest prefix at most, as `supabase secrets list` shows).
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { PROJECT_ROOT } from "./local/paths.ts";

const SUPABASE_CLI = path.join(PROJECT_ROOT, "node_modules", ".bin", "supabase");
const FUNCTIONS = ["api-gateway", "webhook-dispatcher"] as const;
const SECRET_NAME = "DISPATCHER_SECRET";
const USAGE =
  "usage: npm run deploy -- --project-ref <ref> [--dry-run] [--rotate-dispatcher-secret] [--project-url <url>]";

/** A failure the operator can act on: printed as one line, `deploy failed at <step>: <message>`. */
class StepError extends Error {}

let currentStep = "arguments";
/** Whether any step changed the project, for the closing line. */
let changed = false;
const say = (line: string) => console.log(line);

interface Options {
  ref: string;
  projectUrl: string;
  dryRun: boolean;
  rotate: boolean;
  databaseUrl: string;
}

function options(): Options {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        "project-ref": { type: "string" },
        "project-url": { type: "string" },
        "dry-run": { type: "boolean", default: false },
        "rotate-dispatcher-secret": { type: "boolean", default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new StepError(`${(error as Error).message}; ${USAGE}`);
  }
  const ref = values["project-ref"];
  if (!ref) throw new StepError(`--project-ref is missing; ${USAGE}`);
  // The 20 lowercase letters in the dashboard's URL; anything else cannot name a project.
  if (!/^[a-z]{20}$/.test(ref)) throw new StepError(`--project-ref ${ref} is not a project ref (20 lowercase letters)`);
  // A project with a custom domain still answers on its supabase.co URL; --project-url says where else to look.
  const projectUrl = (values["project-url"] ?? `https://${ref}.supabase.co`).replace(/\/+$/, "");
  return {
    ref,
    projectUrl,
    dryRun: values["dry-run"]!,
    rotate: values["rotate-dispatcher-secret"]!,
    databaseUrl: process.env.DATABASE_URL ?? "",
  };
}

interface CliResult {
  stdout: string;
  stderr: string;
}

/** Runs the pinned CLI; a failure carries its output, which never holds a secret value. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      SUPABASE_CLI,
      args,
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** The first line of the CLI's own error, without its "rerun with --debug" advice. */
function cliError(error: unknown): string {
  const { stderr, stdout, message } = error as { stderr?: string; stdout?: string; message?: string };
  const lines = `${stderr ?? ""}\n${stdout ?? ""}`.split("\n").map((l) => l.trim())
    .filter((l) =>
      l && !l.startsWith("Try rerunning the command") && !l.startsWith("DRY RUN") && !/^Connecting to/.test(l)
    );
  return lines[0] ?? message ?? String(error);
}

/**
 * The database URL without its password, and the password on its own: the CLI reads PGPASSWORD for a URL that
 * has none (checked with 2.117.0), so the password never sits on a command line other users of the machine can
 * read in `ps`.
 */
function splitPassword(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = "";
  return { url: parsed.toString(), env: password ? { PGPASSWORD: password } : {} };
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const digestPrefix = (digest: string) => `${digest.slice(0, 12)}…`;

// ---------------------------------------------------------------------------------------------------------------

async function prerequisites(o: Options): Promise<postgres.Sql> {
  try {
    await cli(["--version"]);
  } catch {
    throw new StepError("the Supabase CLI (node_modules/.bin/supabase) does not run: run `npm ci`, then this again");
  }
  let listed: CliResult;
  try {
    listed = await cli(["projects", "list", "-o", "json"]);
  } catch (error) {
    const text = cliError(error);
    if (/access token not provided/i.test(text)) {
      throw new StepError(
        "no Supabase access token: run `npx supabase login` (or set SUPABASE_ACCESS_TOKEN), then this again",
      );
    }
    const unreachable = /Transport error \(\w+ (\S+?)\)|ECONNREFUSED|ENOTFOUND|ETIMEDOUT/i.exec(text);
    if (unreachable) {
      const where = unreachable[1] ? ` at ${new URL(unreachable[1]).origin}` : "";
      throw new StepError(
        `the Supabase Management API${where} cannot be reached: check the network, then run this again`,
      );
    }
    if (/\b401\b|unauthori[sz]ed|invalid.*token/i.test(text)) {
      throw new StepError("the Supabase access token was refused: run `npx supabase login` again, then this again");
    }
    throw new StepError(`supabase projects list failed: ${text}`);
  }
  const projects = JSON.parse(listed.stdout) as { ref?: string; id?: string; name?: string; status?: string }[];
  const project = projects.find((p) => (p.ref ?? p.id) === o.ref);
  if (!project) {
    throw new StepError(
      `no project ${o.ref} among the ${projects.length} this access token can see: check --project-ref (the 20 letters in the dashboard's URL)`,
    );
  }
  if (project.status && project.status !== "ACTIVE_HEALTHY") {
    throw new StepError(`project ${o.ref} is ${project.status}: restore it from the dashboard, then run this again`);
  }
  if (!o.databaseUrl) {
    throw new StepError(
      'DATABASE_URL is not set: export the project\'s connection string (dashboard, Connect; README, "Deploying to Supabase"), then run this again',
    );
  }
  let where: string;
  try {
    const parsed = new URL(o.databaseUrl);
    where = `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname} as ${decodeURIComponent(parsed.username)}`;
  } catch {
    throw new StepError("DATABASE_URL is not a URL: copy the connection string from the dashboard (Connect)");
  }
  const sql = postgres(o.databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 0 });
    const { code, message } = error as { code?: string; message?: string };
    throw new StepError(
      `cannot connect to the project's database (${where}): ${code ?? ""} ${message ?? ""}`.replace(/\s+/g, " ")
        .trim() +
        "; check DATABASE_URL and its password",
    );
  }
  say(`      project ${o.ref}${project.name ? ` (${project.name})` : ""}, ${project.status ?? "status unknown"}`);
  say(`      database ${where}`);
  return sql;
}

async function link(o: Options): Promise<void> {
  const linked = await readFile(path.join(PROJECT_ROOT, "supabase", ".temp", "project-ref"), "utf8").catch(() => "");
  if (linked.trim() === o.ref) return say(`      already linked to ${o.ref}`);
  if (o.dryRun) return say(`      would link this checkout to ${o.ref}`);
  try {
    await cli(["link", "--project-ref", o.ref]);
    changed = true;
  } catch (error) {
    throw new StepError(`supabase link failed: ${cliError(error)}`);
  }
  say(`      linked to ${o.ref}`);
}

async function migrations(o: Options): Promise<void> {
  const db = splitPassword(o.databaseUrl);
  let plan: CliResult;
  try {
    plan = await cli(["db", "push", "--dry-run", "--db-url", db.url], db.env);
  } catch (error) {
    throw new StepError(`supabase db push --dry-run failed: ${cliError(error)}`);
  }
  const pending = [...`${plan.stdout}\n${plan.stderr}`.matchAll(/^\s*•\s*(\S+\.sql)\s*$/gm)].map((m) => m[1]);
  if (pending.length === 0) return say("      up to date");
  say(`      ${pending.length} pending:`);
  for (const file of pending) say(`        ${file}`);
  if (o.dryRun) return say("      would apply them (supabase db push)");
  try {
    await cli(["db", "push", "--db-url", db.url, "--yes"], db.env);
    changed = true;
  } catch (error) {
    throw new StepError(
      `supabase db push failed: ${cliError(error)}; the migrations before it are applied, fix this one and run again`,
    );
  }
  say(`      applied ${pending.length}`);
}

/** The digest `supabase secrets list` shows for a function secret (the API returns SHA-256 hex, never values). */
async function functionSecretDigest(o: Options): Promise<string | undefined> {
  let listed: CliResult;
  try {
    listed = await cli(["secrets", "list", "--project-ref", o.ref, "-o", "json"]);
  } catch (error) {
    throw new StepError(`supabase secrets list failed: ${cliError(error)}`);
  }
  const secrets = JSON.parse(listed.stdout) as { name: string; value: string }[];
  return secrets.find((s) => s.name === SECRET_NAME)?.value;
}

/** Sets the function secret from an env file in a folder only this user can read, removed straight after. */
async function setFunctionSecret(o: Options, value: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "leadlex-deploy-"));
  const file = path.join(dir, "secrets.env");
  try {
    await writeFile(file, `${SECRET_NAME}=${value}\n`, { mode: 0o600 });
    await cli(["secrets", "set", "--env-file", file, "--project-ref", o.ref]);
  } catch (error) {
    throw new StepError(`supabase secrets set failed: ${cliError(error)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Creates or replaces a Vault secret by name; the value travels as a bind parameter, never in the SQL text. */
async function putVaultSecret(sql: postgres.Sql, name: string, value: string, description: string): Promise<void> {
  const [row] = await sql<{ id: string }[]>`select id from vault.secrets where name = ${name}`;
  if (row) await sql`select vault.update_secret(${row.id}::uuid, ${value})`;
  else await sql`select vault.create_secret(${value}, ${name}, ${description})`;
}

async function vaultSecret(sql: postgres.Sql, name: string): Promise<string | undefined> {
  const [row] = await sql<{ value: string | null }[]>`
    select decrypted_secret as value from vault.decrypted_secrets where name = ${name}`;
  return row?.value ?? undefined;
}

/**
 * One value in two places: the functions' DISPATCHER_SECRET (the dispatcher checks it, the gateway sends it) and
 * Vault's dispatcher_secret (the cron job sends it). Vault is the copy this script can read back, so it is the
 * source; the function secret is compared by its digest. Vault is written first: if the second write fails, the
 * next run finds Vault's value and sets the functions' copy from it.
 */
async function dispatcherSecret(o: Options, sql: postgres.Sql): Promise<void> {
  const [{ vault }] = await sql<{ vault: boolean }[]>`
    select exists (select 1 from pg_catalog.pg_namespace where nspname = 'vault') as vault`;
  if (!vault) {
    throw new StepError(
      "the database has no Vault (schema vault): enable the supabase_vault extension (dashboard, Database, Extensions), then run this again",
    );
  }
  const stored = await vaultSecret(sql, "dispatcher_secret");
  const deployed = await functionSecretDigest(o);
  const fresh = () => randomBytes(32).toString("base64url");
  let change: { value: string; plan: string } | undefined;
  if (o.rotate) {
    change = {
      value: fresh(),
      plan: "replaced with a new value (--rotate-dispatcher-secret), in Vault and the functions",
    };
  } else if (stored !== undefined && deployed === sha256(stored)) {
    say(`      kept: Vault and the functions hold the same value (digest ${digestPrefix(deployed)})`);
  } else if (stored !== undefined) {
    change = {
      value: stored,
      plan: deployed
        ? "the functions' copy differs from Vault's: set from Vault"
        : "set the functions' copy from Vault",
    };
  } else {
    change = {
      value: fresh(),
      plan: deployed
        ? "not in Vault, so its value is unknown: replaced with a new one in both"
        : "created, in Vault and the functions",
    };
  }
  if (change && o.dryRun) {
    say(`      would change: ${change.plan}`);
  } else if (change) {
    changed = true;
    if (stored !== change.value) {
      await putVaultSecret(sql, "dispatcher_secret", change.value, "Bearer token pg_cron sends to webhook-dispatcher");
    }
    await setFunctionSecret(o, change.value);
    const now = await functionSecretDigest(o);
    if (now !== sha256(change.value)) {
      throw new StepError("the functions' DISPATCHER_SECRET does not match Vault's after setting it: run this again");
    }
    say(`      ${change.plan} (digest ${digestPrefix(now)})`);
  }
  const projectUrl = await vaultSecret(sql, "project_url");
  if (projectUrl === o.projectUrl) return say(`      project_url in Vault: ${o.projectUrl}`);
  if (o.dryRun) return say(`      would set project_url in Vault to ${o.projectUrl}`);
  changed = true;
  await putVaultSecret(sql, "project_url", o.projectUrl, "Where pg_cron posts to webhook-dispatcher");
  say(`      project_url in Vault set to ${o.projectUrl}`);
}

/** Every file under a folder, relative to the project root. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(path.join(PROJECT_ROOT, folder), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(PROJECT_ROOT, path.join(e.parentPath, e.name)));
}

/**
 * What a function's deploy is made of: its config, the import map, the shared code and its own folder, and the
 * CLI that bundles them. Other functions' folders are left out, so changing one redeploys only that one.
 */
async function sourceDigest(slug: string, cliVersion: string): Promise<string> {
  const others = FUNCTIONS.filter((f) => f !== slug).map((f) => `functions/${f}/`);
  const files = ["supabase/config.toml", "deno.json", ...(await filesUnder("functions"))]
    .filter((f) => !others.some((o) => f.startsWith(o)))
    .sort();
  const hash = createHash("sha256").update(`supabase ${cliVersion}\n`);
  for (const file of files) hash.update(`${file}\n${sha256(await readFile(path.join(PROJECT_ROOT, file), "utf8"))}\n`);
  return hash.digest("hex");
}

async function deployFunctions(o: Options, sql: postgres.Sql): Promise<void> {
  const cliVersion = (await cli(["--version"])).stdout.trim();
  const digests = new Map(
    await Promise.all(FUNCTIONS.map(async (f) => [f, await sourceDigest(f, cliVersion)] as const)),
  );
  let listed: CliResult;
  try {
    listed = await cli(["functions", "list", "--project-ref", o.ref, "-o", "json"]);
  } catch (error) {
    throw new StepError(`supabase functions list failed: ${cliError(error)}`);
  }
  const live = new Set(
    (JSON.parse(listed.stdout) as { slug: string; status?: string }[])
      .filter((f) => !f.status || f.status === "ACTIVE").map((f) => f.slug),
  );
  // Read back from the table the last deploy wrote; absent before the migration that creates it is applied.
  const recorded = new Map<string, string>();
  const [{ table }] = await sql<
    { table: boolean }[]
  >`select to_regclass('public.function_deployments') is not null as table`;
  if (table) {
    for (
      const row of await sql<{ slug: string; source_sha256: string }[]>`
      select slug, source_sha256 from public.function_deployments`
    ) recorded.set(row.slug, row.source_sha256);
  }
  const stale = FUNCTIONS.filter((f) => !live.has(f) || recorded.get(f) !== digests.get(f));
  const fresh = FUNCTIONS.filter((f) => !stale.includes(f));
  if (fresh.length) say(`      unchanged since the last deploy: ${fresh.join(", ")}`);
  if (stale.length === 0) return;
  if (o.dryRun) return say(`      would deploy ${stale.join(", ")}`);
  try {
    await cli(["functions", "deploy", ...stale, "--use-api", "--project-ref", o.ref]);
    changed = true;
  } catch (error) {
    throw new StepError(`supabase functions deploy failed: ${cliError(error)}`);
  }
  for (const slug of stale) {
    await sql`
      insert into public.function_deployments (slug, source_sha256) values (${slug}, ${digests.get(slug)!})
      on conflict (slug) do update set source_sha256 = excluded.source_sha256, deployed_at = now()`;
  }
  say(`      deployed ${stale.join(", ")}`);
}

/** GET with a few tries: a function deployed a moment ago may answer its first request slowly or not at all. */
async function fetchDeployed(url: string): Promise<Response> {
  let last = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt) await new Promise((resolve) => setTimeout(resolve, 2_000));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
      if (res.status === 200) return res;
      last = `answered ${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (error) {
      const { cause, message } = error as Error & { cause?: { message?: string } };
      last = `failed: ${cause?.message ?? message}`;
    }
  }
  throw new StepError(`GET ${url} ${last}; see the function's logs (dashboard, Edge Functions, api-gateway, Logs)`);
}

/**
 * Whether pg_cron will post to the dispatcher: the migrations schedule it only where pg_cron and pg_net exist, as on
 * every Supabase project. Without it deliveries still go out on the gateway's kicks, but retries wait for the next.
 */
async function cronJob(sql: postgres.Sql): Promise<void> {
  const [{ cron }] = await sql<{ cron: boolean }[]>`select to_regclass('cron.job') is not null as cron`;
  const [job] = cron
    ? await sql<{ schedule: string }[]>`select schedule from cron.job where jobname = 'webhook-dispatcher'`
    : [];
  if (job) return say(`      pg_cron job webhook-dispatcher: every ${job.schedule}`);
  say(
    "      note: no pg_cron job webhook-dispatcher: this database lacks pg_cron or pg_net (a Supabase project has both),",
  );
  say("      so retries go out only when the gateway kicks the dispatcher");
}

async function check(o: Options, sql: postgres.Sql): Promise<void> {
  const base = `${o.projectUrl}/functions/v1/api-gateway`;
  await cronJob(sql);
  if (o.dryRun) return say(`      would call ${base}/health and ${base}/openapi.json`);
  const health = await (await fetchDeployed(`${base}/health`)).json() as { status?: string };
  if (health.status !== "ok") throw new StepError(`GET ${base}/health answered ${JSON.stringify(health)}`);
  const document = await (await fetchDeployed(`${base}/openapi.json`)).json() as { openapi?: string; paths?: object };
  if (!document.openapi || !document.paths) throw new StepError(`GET ${base}/openapi.json is not an OpenAPI document`);
  say(
    `      ${base}/health: ok; /openapi.json: OpenAPI ${document.openapi}, ${Object.keys(document.paths).length} paths`,
  );
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = options();
  const steps: [name: string, run: (sql: postgres.Sql) => Promise<void>][] = [
    ["link", () => link(o)],
    ["migrations", () => migrations(o)],
    ["dispatcher secret", (sql) => dispatcherSecret(o, sql)],
    ["functions", (sql) => deployFunctions(o, sql)],
    ["check", (sql) => check(o, sql)],
  ];
  const total = steps.length + 1;
  if (o.dryRun) say(`Dry run: nothing is changed; this is what a deploy to ${o.ref} would do.`);
  currentStep = "prerequisites";
  say(`[1/${total}] prerequisites`);
  const sql = await prerequisites(o);
  try {
    for (const [index, [name, run]] of steps.entries()) {
      currentStep = name;
      say(`[${index + 2}/${total}] ${name}`);
      await run(sql);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  if (o.dryRun) return say("Dry run done: run it again without --dry-run to do this.");
  say(changed ? "Deployed." : "Nothing to change: the project already runs this checkout.");
  say(`The API: ${o.projectUrl}/functions/v1/api-gateway`);
  say(
    'Next: create the first workspace and key with the admin CLI, DATABASE_URL still set (docs/deploy.md, "The first key on a hosted project"):',
  );
  say('  npm run -s admin -- workspace create --name "<name>" --plan pro');
  say(
    "  npm run -s admin -- key create --workspace <id> --name first --permissions campaigns:read,campaigns:write,webhooks:read,webhooks:write,admin:api_keys",
  );
}

main().catch((error) => {
  const message = error instanceof StepError ? error.message : (error as Error)?.message ?? String(error);
  console.error(`deploy failed at ${currentStep}: ${message.split("\n")[0]}`);
  process.exitCode = 1;
});
