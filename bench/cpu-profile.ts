// CPU profiles of a Deno process under load, through its V8 inspector (bench/cpu-profile/record.ts records them,
// since Node 20 has no WebSocket), and what a profile says in a few lines: the functions with most self time.
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { endOf } from "../scripts/local/child-process.ts";
import { DENO_RUN_FLAGS, denoExecutable } from "../scripts/local/deno.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
/** The inspector's Profiler.Profile, as much of it as is read here. */
export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

/** Starts recording; `stop()` ends it and returns the profile. */
export async function startProfiling(inspectorUrl: string): Promise<{ stop(): Promise<CpuProfile> }> {
  const file = path.join(tmpdir(), `bench-${process.pid}-${Date.now()}.cpuprofile`);
  const recorder = spawn(denoExecutable(), [
    ...DENO_RUN_FLAGS,
    "--allow-write",
    "bench/cpu-profile/record.ts",
    inspectorUrl,
    file,
  ], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ended = endOf(recorder);
  await new Promise<void>((resolve, reject) => {
    recorder.stdout!.setEncoding("utf8").on("data", (chunk: string) => chunk.includes("recording") && resolve());
    void ended.then((how) => reject(new Error(`the profile recorder exited before recording (${how})`)));
  });
  return {
    async stop() {
      recorder.kill("SIGTERM");
      await ended;
      try {
        return JSON.parse(await readFile(file, "utf8")) as CpuProfile;
      } finally {
        await rm(file, { force: true });
      }
    },
  };
}

/** Where a frame's code lives: a project path, a package (`hono/...`), or the runtime's own name for it. */
function place(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, "");
  const pkg = /node_modules\/(?:\.deno\/[^/]+\/node_modules\/)?(.+)$/.exec(url)?.[1];
  const where = pkg ?? (url.startsWith(PROJECT_ROOT) ? path.relative(PROJECT_ROOT, url) : url);
  return where ? `${where}:${frame.lineNumber + 1}` : "";
}

/**
 * The `count` functions with the largest share of the samples taken while JavaScript ran, as [share, name].
 * "(idle)" is left out: it is time outside JavaScript, which includes the runtime's HTTP server in Rust.
 */
export function heaviestFunctions(profile: CpuProfile, count: number): [string, string][] {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)!;
    if (frame.functionName === "(idle)") return;
    const name = `${frame.functionName || "(anonymous)"} ${place(frame)}`.trim();
    const micros = profile.timeDeltas[i] ?? 0;
    self.set(name, (self.get(name) ?? 0) + micros);
    total += micros;
  });
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([name, micros]) => [`${((100 * micros) / total).toFixed(1)}%`, name]);
}
