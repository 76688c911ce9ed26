// `npm start`: the whole product on this machine. Embedded Postgres (or DATABASE_URL), Supabase roles and
// migrations, a demo workspace and key, and both functions under Deno behind a local front at
// http://127.0.0.1:$PORT/functions/v1/<name>. Postgres and Deno are restarted if they die.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import postgres from "postgres";
import { hashApiKey } from "../functions/_shared/auth/api-key.ts";
import { PERMISSIONS } from "../functions/_shared/auth/permissions.ts";
import { createApiKey, createWorkspace } from "./admin/provisioning.ts";
import { endOf, hasExited, stopChild } from "./local/child-process.ts";
import { prepareDatabase, startEmbeddedPostgres } from "./local/database.ts";
import { DENO_RUN_FLAGS, denoExecutable } from "./local/deno.ts";
import { startFront } from "./local/front.ts";
import { DATA_DIR, LOCAL_STATE_FILE, PROJECT_ROOT } from "./local/paths.ts";
import { freePort } from "./local/ports.ts";
import { supervise, type Supervised } from "./local/supervisor.ts";
import { pruneLimitsFromEnv, startRetentionTicker } from "./local/retention.ts";

const PORT = Number(process.env.PORT ?? 54321);
const PG_PORT = Number(process.env.PG_PORT ?? 54322);
const DISPATCH_INTERVAL_MS = 1000;
const DEMO_KEY_FILE = path.join(DATA_DIR, "demo-key.json");

const say = (message: string) => console.error(`[start] ${message}`);

/** Reuses the demo key from the last start while it still works, so restarts keep curl commands valid. */
async function demoKey(sql: postgres.Sql): Promise<{ key: string; workspaceId: string }> {
  try {
    const saved = JSON.parse(await readFile(DEMO_KEY_FILE, "utf8")) as { key: string; workspace_id: string };
    const [live] = await sql`
      select 1 from public.api_keys
       where key_hash = decode(${hashApiKey(saved.key)}, 'hex') and revoked_at is null
         and (expires_at is null or expires_at > now())`;
    if (live) return { key: saved.key, workspaceId: saved.workspace_id };
  } catch {
    // No saved key yet, or it no longer works: make a new one below.
  }
  const workspace = await createWorkspace(sql, { name: "Demo workspace", plan: "pro" });
  const created = await createApiKey(sql, {
    workspaceId: workspace.id,
    name: "demo",
    permissions: [...PERMISSIONS],
  });
  await writeFile(DEMO_KEY_FILE, JSON.stringify({ key: created.key, workspace_id: workspace.id }), { mode: 0o600 });
  return { key: created.key, workspaceId: workspace.id };
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (hasExited(child)) throw new Error("functions exited during start-up");
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`functions did not become healthy at ${url} within 60 s`);
}

/** Fails early and clearly when a port is taken (say, by another `npm start`), instead of half starting. */
async function ensurePortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer()
      .once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            error.code === "EADDRINUSE"
              ? `port ${port} (${what}) is already in use: is another \`npm start\` running? Set ${what} to move it.`
              : `cannot use port ${port} (${what}): ${error.message}`,
          ),
        ))
      .listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

// Everything started so far, stopped in reverse order on Ctrl-C, SIGTERM, repeated crashes, or a failed start-up. A second signal, or a stop that hangs, ends the process anyway.
const cleanups: (() => Promise<void> | void)[] = [];
let stopping = false;

async function stop(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  say("stopping");
  setTimeout(() => process.exit(code), 15_000).unref();
  for (const cleanup of cleanups.reverse()) {
    await Promise.resolve().then(cleanup).catch((error) => say(`while stopping: ${error}`));
  }
  process.exit(code);
}

/** Deno serving both functions; `exited` settles however the process ends. */
function startFunctions(env: NodeJS.ProcessEnv): Supervised & { child: ChildProcess } {
  const child = spawn(denoExecutable(), [...DENO_RUN_FLAGS, "scripts/local/functions-server.ts"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    env,
  });
  return { child, exited: endOf(child), stop: () => stopChild(child) };
}

/** Restart what dies, logged; after repeated deaths, stop everything and exit non-zero with the reason. */
function supervision(name: string) {
  return {
    name,
    say,
    stopping: () => stopping,
    giveUp: (message: string) => {
      say(message);
      void stop(1);
    },
  };
}

async function main() {
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  process.on("SIGHUP", () => void stop(0));

  await ensurePortFree(PORT, "PORT");
  await mkdir(DATA_DIR, { recursive: true });
  let databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    say("using DATABASE_URL");
  } else {
    await ensurePortFree(PG_PORT, "PG_PORT");
    say(
      `starting embedded Postgres on 127.0.0.1:${PG_PORT} (data in ${
        path.relative(PROJECT_ROOT, DATA_DIR) || "."
      }/postgres)`,
    );
    const startDatabase = () =>
      startEmbeddedPostgres({ dataDir: path.join(DATA_DIR, "postgres"), port: PG_PORT, persistent: true });
    const database = await startDatabase();
    const supervised = supervise(database, startDatabase, supervision("Postgres"));
    cleanups.push(() => supervised.current().stop());
    databaseUrl = database.url;
  }
  if (stopping) return;
  say("applying migrations with the Supabase CLI");
  await prepareDatabase(databaseUrl);

  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const demo = await demoKey(sql).finally(() => sql.end());
  await writeFile(LOCAL_STATE_FILE, JSON.stringify({ database_url: databaseUrl, port: PORT }));
  if (stopping) return;

  const baseUrl = `http://127.0.0.1:${PORT}`;
  const dispatcherSecret = randomBytes(24).toString("base64url");
  say("starting functions under Deno");
  // Deno listens on a loopback port of its own; the front on PORT forwards to it and outlives its restarts.
  const functionsPort = await freePort();
  const functionsEnv = {
    ...process.env,
    PORT: String(functionsPort),
    DATABASE_URL: databaseUrl,
    SUPABASE_URL: baseUrl,
    DISPATCHER_SECRET: dispatcherSecret,
    // Receivers on this machine are what local development needs; WEBHOOK_ALLOW_PRIVATE_URLS=0 turns that off.
    WEBHOOK_ALLOW_PRIVATE_URLS: process.env.WEBHOOK_ALLOW_PRIVATE_URLS ?? "1",
  };
  const functions = startFunctions(functionsEnv);
  const gateway = `${baseUrl}/functions/v1/api-gateway`;
  const supervisedFunctions = supervise(
    functions,
    () => Promise.resolve(startFunctions(functionsEnv)),
    supervision("functions"),
  );
  cleanups.push(() => supervisedFunctions.current().stop());
  const front = await startFront(PORT, functionsPort);
  cleanups.push(() => front.close());
  await waitForHealth(`${gateway}/health`, functions.child);

  // Stands in for pg_cron + pg_net, which the embedded Postgres lacks.
  const ticker = setInterval(() => {
    fetch(`${baseUrl}/functions/v1/webhook-dispatcher`, {
      method: "POST",
      headers: { Authorization: `Bearer ${dispatcherSecret}` },
    }).then((res) => res.body?.cancel(), () => {});
  }, DISPATCH_INTERVAL_MS);
  cleanups.push(() => clearInterval(ticker));
  cleanups.push(startRetentionTicker(databaseUrl, pruneLimitsFromEnv(process.env), say));

  console.log(`
API gateway:  ${gateway}
DATABASE_URL=${databaseUrl}
Demo key:     ${demo.key}  (workspace ${demo.workspaceId})

Try it (paste into a shell):
  KEY=${demo.key}
  BASE=${gateway}
  ID=$(curl -s -X POST $BASE/v1/campaigns -H "Authorization: Bearer $KEY" \\
         -H "Content-Type: application/json" -d '{"name":"Spring launch"}' | sed -E 's/.*"campaign":\\{"id":"([^"]+)".*/\\1/')
  curl -s -X DELETE $BASE/v1/campaigns/$ID -H "Authorization: Bearer $KEY"

Admin CLI against this database: npm run -s admin -- workspace create --name Acme
Ctrl-C stops everything.
`);
}

main().catch((error) => {
  if (stopping) return;
  console.error(`[start] failed: ${error instanceof Error ? error.message : error}`);
  void stop(1);
});
