// `npm start` as a user runs it, for the end-to-end and fault-injection suites.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";

const run = promisify(execFile);

export interface StartedStack {
  child: ChildProcess;
  output: () => string;
  gateway: string;
  key: string;
  workspaceId: string;
  databaseUrl: string;
}

/**
 * `npm start` (without npm, which does not forward signals) in its own process group, like a terminal runs it: in
 * `root` (this checkout by default), with its data in `dataDir`, or in the checkout's own `.data/` as a newcomer
 * gets it.
 */
export async function npmStart(options: {
  root?: string;
  dataDir?: string;
  port: number;
  pgPort: number;
  env?: Record<string, string>;
}): Promise<StartedStack> {
  const root = options.root ?? PROJECT_ROOT;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: "",
    PORT: String(options.port),
    PG_PORT: String(options.pgPort),
    ...options.env,
  };
  if (options.dataDir) env.LEADLEX_DATA_DIR = options.dataDir;
  else delete env.LEADLEX_DATA_DIR;
  const child = spawn(path.join(root, "node_modules", ".bin", "tsx"), ["scripts/start.ts"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const deadline = Date.now() + 120_000;
  while (!output.includes("Ctrl-C stops everything")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    gateway: /API gateway:\s+(\S+)/.exec(output)![1],
    key: /Demo key:\s+(wbk_\w+)/.exec(output)![1],
    workspaceId: /\(workspace ([0-9a-f-]+)\)/.exec(output)![1],
    databaseUrl: /^DATABASE_URL=(\S+)$/m.exec(output)![1],
  };
}

/** Ctrl-C to the whole process group; resolves when every process in it is gone. */
export async function interrupt(stack: StartedStack): Promise<void> {
  const group = stack.child.pid!;
  process.kill(-group, "SIGINT");
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      process.kill(-group, 0);
    } catch {
      return; // ESRCH: nothing of the group is left
    }
    if (Date.now() > deadline) {
      process.kill(-group, "SIGKILL");
      throw new Error("processes of npm start were still running 30 s after Ctrl-C");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid of the stack's process whose command line matches `pattern` (say, the Postgres server, or Deno). */
export async function stackProcess(stack: StartedStack, pattern: RegExp): Promise<number> {
  const { stdout } = await run("ps", ["-e", "-o", "pid=,pgid=,args="]);
  const hit = stdout.split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .find((m) => m && Number(m[2]) === stack.child.pid && pattern.test(m[3]));
  if (!hit) throw new Error(`no process of npm start matches ${pattern}`);
  return Number(hit[1]);
}
