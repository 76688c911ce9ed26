// The README's deploy command, run for real with the pinned Supabase CLI (`--use-api`: no Docker), against a
// recorder standing in for the Management API: what would reach a hosted project is what the functions need.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import { expectedUpload, moduleGraph, upload as recordedUpload } from "../support/function-uploads.ts";
import { type ManagementApiRecorder, startManagementApiRecorder } from "../support/management-api-recorder.ts";

const run = promisify(execFile);
const FUNCTIONS = ["api-gateway", "webhook-dispatcher"];
const PROJECT_REF = "abcdefghijklmnopqrst"; // the 20 lowercase letters of a project ref
const ACCESS_TOKEN = `sbp_${"0123456789abcdef".repeat(3).slice(0, 40)}`; // the format the CLI insists on

let recorder: ManagementApiRecorder;
let scratch: string;
let cliOutput: string;

const upload = (slug: string) => recordedUpload(recorder.requests, PROJECT_REF, slug);

beforeAll(async () => {
  recorder = await startManagementApiRecorder();
  scratch = await mkdtemp(path.join(tmpdir(), "leadlex-deploy-"));
  // A CLI profile is either a built-in name or a file; this one sends the Management API calls to the recorder.
  const profile = path.join(scratch, "profile.json");
  await writeFile(
    profile,
    JSON.stringify({
      name: "recorder",
      api_url: recorder.url,
      dashboard_url: `${recorder.url}/dashboard`,
      project_host: "supabase.red",
    }),
  );
  const { stdout, stderr } = await run(
    path.join(PROJECT_ROOT, "node_modules", ".bin", "supabase"),
    ["functions", "deploy", ...FUNCTIONS, "--use-api", "--project-ref", PROJECT_REF, "--profile", profile],
    { cwd: PROJECT_ROOT, env: { ...process.env, SUPABASE_ACCESS_TOKEN: ACCESS_TOKEN }, maxBuffer: 16 * 1024 * 1024 },
  );
  cliOutput = stdout + stderr;
}, 120_000);

afterAll(async () => {
  await recorder?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("supabase functions deploy --use-api", () => {
  it("succeeds, authenticated with the access token, and publishes both functions in one bulk update", () => {
    expect(cliOutput).toContain(`Deployed Functions on project ${PROJECT_REF}: ${FUNCTIONS.join(", ")}`);
    expect(recorder.requests.every((r) => r.authorization === `Bearer ${ACCESS_TOKEN}`)).toBe(true);
    const bulk = recorder.requests.filter((r) =>
      r.method === "PUT" && r.url === `/v1/projects/${PROJECT_REF}/functions`
    );
    expect(bulk).toHaveLength(1);
    const published = (JSON.parse(String(bulk[0].body)) as { slug: string }[]).map((f) => f.slug).sort();
    expect(published).toEqual(FUNCTIONS);
  });

  it.each(FUNCTIONS)("%s: verify_jwt false, its own entrypoint, deno.json as import map", async (slug) => {
    const { metadata } = await upload(slug);
    expect(metadata).toMatchObject({
      name: slug,
      entrypoint_path: `functions/${slug}/index.ts`,
      import_map_path: "deno.json",
      verify_jwt: false,
    });
  });

  it.each(FUNCTIONS)(
    "%s: uploads exactly its module graph (deno info), the import map and its mapped folders, as on disk",
    async (slug) => {
      const { files } = await upload(slug);
      const graph = await moduleGraph(slug);
      expect(graph).toContain(`functions/${slug}/index.ts`);
      expect([...files.keys()].sort()).toEqual(await expectedUpload(slug));
      for (const [name, content] of files) {
        expect(content, name).toBe(await readFile(path.join(PROJECT_ROOT, name), "utf8"));
      }
    },
  );
});
