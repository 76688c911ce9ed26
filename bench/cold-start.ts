// `npm run -s bench:cold-start`: time from process start to the first answer of each deployed entrypoint
// (functions/*/index.ts, run by Deno as the edge runtime runs them, with the environment a deployment gives them),
// side by side with a hello-world `Deno.serve`: median of BENCH_STARTS (10) starts each, in turns so that all
// share the machine's load alike, after one start each that fills Deno's transpile and code caches. Then one more
// start of each under strace: the modules it loads (files opened; a TypeScript module counts with the JavaScript
// Deno compiled it to) and their bytes, the largest packages named. Needs no database: the first request is one
// that every entrypoint answers without one.
import { type ChildProcess, spawn } from "node:child_process";
import { readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { endOf, hasExited } from "../scripts/local/child-process.ts";
import { DENO_RUN_FLAGS, denoExecutable } from "../scripts/local/deno.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";
import { freePort } from "../scripts/local/ports.ts";
import { setting } from "./stack.ts";
import { summarize } from "./stats.ts";

const STARTS = Math.round(setting("BENCH_STARTS", 10));
/** Nothing listens here: the deployed seam (postgrest-js) is created at start-up but first used by a request. */
const DEPLOYED_ENV = {
  SUPABASE_URL: "http://127.0.0.1:9",
  SUPABASE_SECRET_KEYS: JSON.stringify({ default: "sb_secret_cold_start" }),
  DISPATCHER_SECRET: "cold-start-secret-cold-start-secret",
};

interface Target {
  name: string;
  script: string;
  env: Record<string, string>;
  /** A request answered without a database: a 401 for the functions. */
  path: string;
  method: string;
  status: number;
}

const hello = (imports = ""): Target => ({
  name: imports ? `hello-world + import ${imports}` : "hello-world Deno.serve",
  script: "bench/cold-start/hello.ts",
  env: { COLD_START_IMPORTS: imports },
  path: "/",
  method: "GET",
  status: 200,
});
const gateway = (seam: string, env: Record<string, string>): Target => ({
  name: `api-gateway${seam}`,
  script: "functions/api-gateway/index.ts",
  env,
  path: "/api-gateway/v1/campaigns",
  method: "GET",
  status: 401,
});

/** The hello-world first: the others are held against it. */
const TARGETS: Target[] = [
  hello(),
  gateway("", DEPLOYED_ENV),
  {
    name: "webhook-dispatcher",
    script: "functions/webhook-dispatcher/index.ts",
    env: DEPLOYED_ENV,
    path: "/webhook-dispatcher",
    method: "POST",
    status: 401,
  },
  // Local runs and the bench use the postgres.js seam instead of postgrest-js; it too connects only on a request.
  gateway(" (DATABASE_URL seam)", { ...DEPLOYED_ENV, DATABASE_URL: "postgres://cold:start@127.0.0.1:9/none" }),
  // What each of the largest dependencies costs a start on its own.
  hello("zod"),
  hello("@supabase/postgrest-js"),
  hello("hono"),
  hello("postgres"),
];

/** Starts `target` (under `wrap`, a command prefix such as strace, if given) and waits for its first answer. */
async function start(target: Target, wrap: string[] = []): Promise<{ ms: number; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${target.path}`;
  const command = [...wrap, denoExecutable(), ...DENO_RUN_FLAGS, target.script];
  const started = performance.now();
  const child = spawn(command[0], command.slice(1), {
    cwd: PROJECT_ROOT,
    stdio: "ignore",
    // A process group of its own, so that stopping it also stops Deno under strace (see stop).
    detached: true,
    // Deno.serve() with no options listens where DENO_SERVE_ADDRESS says (8000 otherwise).
    env: { ...process.env, ...target.env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` },
  });
  for (;;) {
    if (hasExited(child)) throw new Error(`${target.name} exited (${await endOf(child)})`);
    if (performance.now() - started > 30_000) {
      await stop(child);
      throw new Error(`${target.name} did not answer within 30 s`);
    }
    try {
      const res = await fetch(url, { method: target.method });
      await res.arrayBuffer();
      const ms = performance.now() - started;
      if (res.status !== target.status) throw new Error(`${target.name}: expected ${target.status}, got ${res.status}`);
      return { ms, child };
    } catch (error) {
      if ((error as Error).message.startsWith(target.name)) {
        await stop(child);
        throw error;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** Kills the start's whole process group: killing strace alone would leave the Deno it traces running. */
async function stop(child: ChildProcess): Promise<void> {
  const ended = endOf(child);
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // already gone
  }
  await ended;
}

async function timeStart(target: Target): Promise<number> {
  const { ms, child } = await start(target);
  await stop(child);
  return ms;
}

interface Loaded {
  modules: number;
  bytes: number;
  /** Bytes by package (node_modules/<name>) or by project folder, largest first. */
  largest: [string, number, number][];
}

/** What the module sources opened by one start weigh; `trace` is strace's output of openat calls. */
async function loadedModules(trace: string): Promise<Loaded> {
  const genMarker = "/gen/file";
  const sources = new Map<string, string>();
  for (const match of trace.matchAll(/openat\([^"]*"([^"]+)"[^)]*\)\s*=\s*\d+/g)) {
    const file = match[1];
    if (!/\.(m?js|cjs|ts|tsx)$/.test(file) || file.endsWith(".d.ts")) continue;
    const gen = file.indexOf(genMarker);
    // Deno runs a TypeScript module from the JavaScript it emitted into its cache: those bytes are what V8 compiles.
    if (gen >= 0) sources.set(file.slice(gen + genMarker.length).replace(/\.js$/, ""), file);
    else if (!sources.has(file)) sources.set(file, file);
  }
  const groups = new Map<string, [number, number]>();
  let bytes = 0;
  for (const [source, compiled] of sources) {
    const size = (await stat(compiled)).size;
    bytes += size;
    const relative = path.relative(PROJECT_ROOT, source);
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(relative)?.[1] ?? path.dirname(relative);
    const [n, b] = groups.get(pkg) ?? [0, 0];
    groups.set(pkg, [n + 1, b + size]);
  }
  const largest = [...groups].map(([name, [n, b]]) => [name, n, b] as [string, number, number])
    .sort((a, b) => b[2] - a[2]);
  return { modules: sources.size, bytes, largest };
}

async function traceStart(target: Target): Promise<Loaded> {
  const out = path.join(tmpdir(), `cold-start-${process.pid}-${path.basename(path.dirname(target.script))}.strace`);
  const { child } = await start(target, ["strace", "-f", "-qq", "-e", "trace=openat", "-o", out]);
  await stop(child);
  try {
    return await loadedModules(await readFile(out, "utf8"));
  } finally {
    await rm(out, { force: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const loadBefore = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
  for (const target of TARGETS) await timeStart(target);
  const times = new Map<string, number[]>(TARGETS.map((t) => [t.name, []]));
  for (let round = 0; round < STARTS; round++) {
    for (const target of TARGETS) times.get(target.name)!.push(await timeStart(target));
  }
  const loaded = new Map<string, Loaded | undefined>();
  for (const target of TARGETS) {
    loaded.set(
      target.name,
      await traceStart(target).catch((error) => {
        console.error(`strace of ${target.name} failed: ${(error as Error).message}`);
        return undefined;
      }),
    );
  }
  const hello = summarize(times.get(TARGETS[0].name)!).p50;
  const rows = TARGETS.map((target) => {
    const s = summarize(times.get(target.name)!);
    const l = loaded.get(target.name);
    return [
      target.name,
      s.p50.toFixed(1),
      `${(s.p50 / hello).toFixed(2)}x`,
      `${summarize(times.get(target.name)!).max.toFixed(1)}`,
      l ? String(l.modules) : "-",
      l ? kb(l.bytes) : "-",
    ];
  });
  const loadAfter = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
  console.log(
    `cold start: process start to first answer, median of ${STARTS} starts each (load ${loadBefore} -> ${loadAfter})\n`,
  );
  console.log(table(["entrypoint", "median ms", "vs hello", "max ms", "modules", "bytes loaded"], rows));
  for (const target of TARGETS.slice(1)) {
    const l = loaded.get(target.name);
    if (!l || target.script === TARGETS[0].script) continue;
    const top = l.largest.slice(0, 6).map(([name, n, b]) => `${name} ${n} modules ${kb(b)}`).join("; ");
    console.log(`\n${target.name}, largest: ${top}`);
  }
  const misses = TARGETS.filter((t) => t.script.startsWith("functions/")).filter((t) =>
    summarize(times.get(t.name)!).p50 > 2 * hello
  ).map((t) => t.name);
  console.log(
    `\ntarget (reported, not asserted): each entrypoint within 2x of the hello-world: ${
      misses.length ? `MISS (${misses.join(", ")})` : "met"
    }`,
  );
}

await main();
