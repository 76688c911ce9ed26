// Child processes the way an operator runs them: the functions under real Deno (as `npm start` does) and the
// admin CLI under tsx (as `npm run admin` does).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import path from "node:path";
import { endOf, hasExited, stopChild } from "@scripts/local/child-process.ts";
import { DENO_RUN_FLAGS, denoExecutable } from "@scripts/local/deno.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { freePort } from "./network.ts";

export interface RunningFunctions {
  /** e.g. http://127.0.0.1:PORT/functions/v1 */
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts scripts/local/functions-server.ts under Deno, exactly as `npm start` does, and waits until it is healthy. */
export async function startDenoFunctions(env: Record<string, string>): Promise<RunningFunctions> {
  const port = await freePort();
  const child = spawn(denoExecutable(), [...DENO_RUN_FLAGS, "scripts/local/functions-server.ts"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PORT: String(port), ...env },
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const running: RunningFunctions = {
    url: `http://127.0.0.1:${port}/functions/v1`,
    output: () => output,
    stop: () => stopChild(child),
  };
  try {
    await waitUntilHealthy(`${running.url}/api-gateway/health`, child, () => output);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

async function waitUntilHealthy(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new Error(`functions exited (${await endOf(child)}):\n${output()}`);
    }
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`functions not healthy at ${url} after 90 s:\n${output()}`);
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run admin -- ...args`, without npm: tsx running scripts/admin.ts in the project root. */
export async function runAdmin(args: string[], env: Record<string, string | undefined> = {}): Promise<CommandResult> {
  const tsx = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
  return await new Promise((resolve) => {
    execFile(
      tsx,
      ["scripts/admin.ts", ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a Deno program of the project to completion with the functions' flags; its stdout, or throws. */
export async function runDenoProgram(script: string, env: Record<string, string>): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(
      denoExecutable(),
      [...DENO_RUN_FLAGS, script],
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, timeout: 90_000 },
      (
        error,
        stdout,
        stderr,
      ) => (error ? reject(new Error(`${script} failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}
