// What the benchmark runs against: a throwaway embedded Postgres with the migrations applied, and the functions
// under Deno as `npm start` runs them, without the Node front `npm start` puts before them. Everything started
// here is stopped again on success, failure, Ctrl-C or SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { endOf, hasExited, stopChild } from "../scripts/local/child-process.ts";
import { prepareDatabase, startEmbeddedPostgres } from "../scripts/local/database.ts";
import { DENO_RUN_FLAGS, denoExecutable } from "../scripts/local/deno.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";
import { freePort } from "../scripts/local/ports.ts";

export const say = (message: string) => console.error(`[bench] ${message}`);

/** A positive number from the environment (BENCH_SECONDS and the like), or `fallback`. */
export function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

// ---- cleanup -------------------------------------------------------------------------------------------------

type CleanupStep = { name: string; run: () => Promise<unknown>; sync?: () => void };
const steps: CleanupStep[] = [];
let cleaning: Promise<void> | undefined;

/** Registers a step; steps run last-registered first. `sync` is the part that can still run inside `exit`. */
export function onCleanup(step: CleanupStep): void {
  steps.push(step);
}

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of [...steps].reverse()) {
      try {
        await step.run();
      } catch (error) {
        say(`cleanup: ${step.name} failed: ${error instanceof Error ? error.message : error}`);
      }
    }
    steps.length = 0;
  })();
  return cleaning;
}

let interrupted = false;
export const wasInterrupted = () => interrupted;

/**
 * Ctrl-C / SIGTERM: stop the load and clean up. Whatever is still registered when the process exits gets its
 * synchronous half from the `exit` handler: Deno is killed, and the temp dir removed (a postmaster whose lock file is gone shuts itself down).
 */
function installSignalHandlers(onInterrupt: () => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      say(`${signal}: stopping and cleaning up`);
      onInterrupt();
      void cleanup().finally(() => process.exit(130));
    });
  }
  process.on("exit", () => {
    for (const step of [...steps].reverse()) step.sync?.();
  });
}

/** Runs a benchmark's `main` under the signal handlers, cleans up whatever happened, and exits (130 if interrupted). */
export async function runBench(main: () => Promise<void>, onInterrupt: () => void): Promise<never> {
  installSignalHandlers(onInterrupt);
  let exitCode = 0;
  try {
    await main();
  } catch (error) {
    exitCode = 1;
    if (!interrupted) say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  } finally {
    say("cleaning up");
    await cleanup();
  }
  process.exit(interrupted ? 130 : exitCode);
}

// ---- processes -----------------------------------------------------------------------------------------------

export interface Database {
  url: string;
}

/** Embedded Postgres in a fresh temp dir (0755, so the `postgres` user can reach it under root), migrated. */
export async function startDatabase(): Promise<Database> {
  const dir = await mkdtemp(path.join(tmpdir(), "leadlex-bench-pg-"));
  await chmod(dir, 0o755);
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  onCleanup({ name: "temp dir", run: () => rm(dir, { recursive: true, force: true }), sync: removeDir });
  const port = await freePort();
  say(`starting embedded Postgres on 127.0.0.1:${port} (data in ${dir})`);
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, "data"), port, persistent: false });
  onCleanup({ name: "embedded Postgres", run: () => pg.stop() });
  say("applying migrations with the Supabase CLI");
  await prepareDatabase(pg.url);
  return { url: pg.url };
}

export interface Functions {
  gatewayUrl: string;
  dispatcherUrl: string;
  dispatcherSecret: string;
  /** The process serving api-gateway alone: the one whose memory is measured. */
  pid: number;
  /** The process serving webhook-dispatcher alone: the one whose CPU time per delivery is measured. */
  dispatcherPid: number;
  /** Last lines the functions wrote to stderr, for error messages. */
  stderrTail(): string;
}

interface FunctionsProcess {
  baseUrl: string;
  pid: number;
  tail: string[];
  /** The V8 inspector's WebSocket URL, when started with `--inspect`. */
  inspectorUrl?: string;
  /** Stops the process now rather than at the end of the run. */
  stop(): Promise<void>;
}

/**
 * One Deno functions front serving `names`. Its request log goes to /dev/null. SUPABASE_URL is the front itself
 * unless `env` says otherwise, so a function can call itself as it does deployed. With `trace`, V8 prints a
 * line per garbage collection on stdout, which goes to `trace` instead. `checkout` runs another checkout's code.
 */
export async function spawnFunctions(
  names: string,
  env: Record<string, string>,
  trace?: GcTrace,
  checkout: string = PROJECT_ROOT,
  denoFlags: string[] = [],
): Promise<FunctionsProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  return await spawnDeno({
    label: names,
    script: "scripts/local/functions-server.ts",
    port,
    trace,
    checkout,
    denoFlags,
    env: { SUPABASE_URL: baseUrl, ...env, FUNCTIONS: names, HOST: "127.0.0.1" },
    probe: `${baseUrl}/functions/v1/${names.split(",")[0]}`,
  });
}

/** A Deno HTTP server of the bench's own (bench/peer/), with `env`, on a free port; its base URL once it answers. */
export async function spawnDenoServer(script: string, env: Record<string, string> = {}): Promise<FunctionsProcess> {
  const port = await freePort();
  return await spawnDeno({ label: script, script, port, env, probe: `http://127.0.0.1:${port}/` });
}

/** Starts `script` under Deno with the functions' run flags and waits until `probe` gets any HTTP answer. */
async function spawnDeno(options: {
  label: string;
  script: string;
  port: number;
  env: Record<string, string>;
  probe: string;
  trace?: GcTrace;
  checkout?: string;
  denoFlags?: string[];
}): Promise<FunctionsProcess> {
  const { label, trace } = options;
  const baseUrl = `http://127.0.0.1:${options.port}`;
  say(`starting ${label} under Deno on ${baseUrl}`);
  const v8Flags = trace ? ["--v8-flags=--trace-gc-nvp"] : [];
  const flags = [...DENO_RUN_FLAGS, ...v8Flags, ...(options.denoFlags ?? [])];
  const child: ChildProcess = spawn(denoExecutable(), [...flags, options.script], {
    cwd: options.checkout ?? PROJECT_ROOT,
    stdio: ["ignore", trace ? "pipe" : "ignore", "pipe"],
    env: { ...process.env, ...options.env, PORT: String(options.port) },
  });
  if (trace) child.stdout?.setEncoding("utf8").on("data", trace.read);
  const tail: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    tail.push(chunk);
    if (tail.length > 50) tail.shift();
  });
  const kill = () => {
    if (!hasExited(child)) child.kill("SIGKILL");
  };
  const stop = () => stopChild(child, { graceMs: 3000 });
  onCleanup({ name: `Deno ${label}`, run: stop, sync: kill });

  for (let i = 0;; i++) {
    if (hasExited(child)) {
      throw new Error(`${label} exited (${await endOf(child)}):\n${tail.join("")}`);
    }
    try {
      // Any HTTP answer (the dispatcher refuses a GET) means the server is up.
      const res = await fetch(options.probe);
      await res.body?.cancel();
      break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`${label} did not start at ${options.probe}:\n${tail.join("")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(tail.join(""))?.[1];
  return { baseUrl, pid: child.pid!, tail, stop, ...(inspectorUrl ? { inspectorUrl } : {}) };
}

/**
 * The two functions under Deno with the environment `npm start` gives them, each in a process of its own as
 * deployed functions are, so the gateway's memory is its own; the gateway kicks the dispatcher's process.
 * `gatewayGcTrace` collects the gateway's garbage collections.
 */
export async function startFunctions(databaseUrl: string, gatewayGcTrace?: GcTrace): Promise<Functions> {
  const dispatcherSecret = randomBytes(24).toString("base64url");
  const env = { DATABASE_URL: databaseUrl, DISPATCHER_SECRET: dispatcherSecret, WEBHOOK_ALLOW_PRIVATE_URLS: "1" };
  const dispatcher = await spawnFunctions("webhook-dispatcher", env);
  const gateway = await spawnFunctions("api-gateway", { ...env, SUPABASE_URL: dispatcher.baseUrl }, gatewayGcTrace);
  return {
    gatewayUrl: `${gateway.baseUrl}/functions/v1/api-gateway`,
    dispatcherUrl: `${dispatcher.baseUrl}/functions/v1/webhook-dispatcher`,
    dispatcherSecret,
    pid: gateway.pid,
    dispatcherPid: dispatcher.pid,
    stderrTail: () => [...gateway.tail, ...dispatcher.tail].join("").slice(-4000),
  };
}

/**
 * `count` webhook-dispatcher processes of their own, as `count` edge workers: each drains with its own CPU and
 * database pool, and its follow-up kicks reach itself. Returns their URLs and the one secret they accept.
 */
export async function startDispatchers(databaseUrl: string, count: number) {
  const secret = randomBytes(24).toString("base64url");
  const env = { DATABASE_URL: databaseUrl, DISPATCHER_SECRET: secret, WEBHOOK_ALLOW_PRIVATE_URLS: "1" };
  const started = await Promise.all(Array.from({ length: count }, () => spawnFunctions("webhook-dispatcher", env)));
  return {
    urls: started.map((p) => `${p.baseUrl}/functions/v1/webhook-dispatcher`),
    secret,
    stop: () => Promise.all(started.map((p) => p.stop())),
  };
}

// ---- memory --------------------------------------------------------------------------------------------------

export interface MemoryReport {
  /** RSS right after the functions became healthy. */
  startRssMb: number;
  /** Kernel's high-water mark (VmHWM), or the highest sampled VmRSS where that is larger or missing. */
  peakRssMb: number;
  /** The peak as it stood at the end of each named phase. */
  peakByPhaseMb: Record<string, number>;
  samples: number;
}

async function readStatusKb(pid: number): Promise<{ rss?: number; hwm?: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    return m ? Number(m[1]) : undefined;
  };
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;

/** VmRSS of `pid` now, in MB. */
export async function currentRssMb(pid: number): Promise<number> {
  return mb((await readStatusKb(pid)).rss ?? 0);
}

/** Samples /proc/<pid>/status every 100 ms; `mark()` notes the peak so far, `stop()` reads the final one. */
export function sampleMemory(pid: number) {
  let startKb: number | undefined;
  let maxKb = 0;
  let samples = 0;
  const phases: Record<string, number> = {};
  const sample = async () => {
    try {
      const { rss, hwm } = await readStatusKb(pid);
      startKb ??= rss;
      maxKb = Math.max(maxKb, rss ?? 0, hwm ?? 0);
      samples++;
    } catch {
      // process gone or /proc unavailable
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), 100);
  return {
    async mark(phase: string): Promise<void> {
      await sample();
      if (samples) phases[phase] = mb(maxKb);
    },
    async stop(): Promise<MemoryReport | null> {
      clearInterval(timer);
      await sample();
      if (!samples) return null;
      return { startRssMb: mb(startKb ?? 0), peakRssMb: mb(maxKb), peakByPhaseMb: phases, samples };
    },
  };
}

/** What V8's --trace-gc-nvp lines say about one process's JavaScript heap. */
export interface GcSummary {
  /** Largest heap V8 had reserved (committed), after any collection. */
  committedPeakMb: number;
  /** Old generation when each full (mark-compact) collection started, then what was still live after it. */
  fullGcs: { beforeMb: number; liveAfterMb: number }[];
}

export interface GcTrace {
  read(chunk: string): void;
  summary(): GcSummary;
}

/**
 * Reads V8's one-line JSON records (`... GC: {"gc":"mc","start_object_size":...}`) from a process's stdout. Other
 * output on the same stream (the request log) can split a record; such records are skipped.
 */
export function gcTrace(): GcTrace {
  let partial = "";
  let committedPeak = 0;
  const fullGcs: { beforeMb: number; liveAfterMb: number }[] = [];
  const toMb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
  return {
    read(chunk) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const record = /GC: (\{.*\})\s*$/.exec(line);
        if (!record) continue;
        let gc: { gc?: string; start_object_size?: number; end_object_size?: number; end_memory_size?: number };
        try {
          gc = JSON.parse(record[1]);
        } catch {
          continue;
        }
        committedPeak = Math.max(committedPeak, gc.end_memory_size ?? 0);
        if (gc.gc === "mc") {
          fullGcs.push({ beforeMb: toMb(gc.start_object_size ?? 0), liveAfterMb: toMb(gc.end_object_size ?? 0) });
        }
      }
    },
    summary: () => ({ committedPeakMb: toMb(committedPeak), fullGcs }),
  };
}
