// What integrators' tools say of the document, with their own rule sets: Redocly CLI's `recommended` and
// Spectral's `spectral:oas` (redocly.yaml and .spectral.yaml name any rule switched off, and why). Run on the
// document as generated now, which tests/openapi/document.test.ts holds equal to the committed copy.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openApiDocument } from "@gateway/openapi/document.ts";
import { formatDocument } from "@scripts/local/openapi-file.ts";

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, "../..");
const bin = (name: string) => path.join(ROOT, "node_modules/.bin", name);
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "openapi-lint-"));
  file = path.join(dir, "openapi.json");
  await writeFile(file, formatDocument(openApiDocument()));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The tool's report on stdout, whatever its exit code says (both exit non-zero when they find errors). */
async function report(command: string, args: string[]): Promise<string> {
  const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };
  try {
    return (await run(command, args, { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

it("Redocly CLI (recommended): no error and no warning", { timeout: 60_000 }, async () => {
  const out = JSON.parse(await report(bin("redocly"), ["lint", file, "--config", "redocly.yaml", "--format", "json"]));
  expect(out.problems.map((p: { ruleId: string; message: string }) => `${p.ruleId}: ${p.message}`)).toEqual([]);
  expect(out.totals).toMatchObject({ errors: 0, warnings: 0 });
});

it("Spectral (spectral:oas): no error", { timeout: 60_000 }, async () => {
  const results: { code: string; message: string; severity: number; path: string[] }[] = JSON.parse(
    await report(bin("spectral"), ["lint", file, "--ruleset", ".spectral.yaml", "--format", "json", "--quiet"]),
  );
  const errors = results.filter((r) => r.severity === 0).map((r) => `${r.code} at ${r.path.join(".")}: ${r.message}`);
  expect(errors).toEqual([]);
});
