// What `supabase functions deploy --use-api` uploads, read back from the Management API recorder, and what it
// should upload: each function's module graph as Deno resolves it, the import map and the folders it maps.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { denoExecutable } from "@scripts/local/deno.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";
import type { RecordedRequest } from "./management-api-recorder.ts";

const run = promisify(execFile);

/** The files a function's module graph reads from the project, as Deno itself resolves it (npm packages excluded). */
export async function moduleGraph(name: string): Promise<string[]> {
  const { stdout } = await run(
    denoExecutable(),
    ["info", "--json", "--node-modules-dir=manual", "--config", "deno.json", `functions/${name}/index.ts`],
    { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  const { modules } = JSON.parse(stdout) as { modules: { kind?: string; specifier: string; local?: string }[] };
  return modules
    .filter((m) => m.specifier.startsWith("file:") && m.kind !== "external" && m.local)
    .map((m) => path.relative(PROJECT_ROOT, m.local!))
    .sort();
}

/**
 * Every file below the folders deno.json maps a prefix to (`"@shared/": "./functions/_shared/"`). The pinned CLI
 * uploads such a folder whole, beside the module graph (seen with 2.117.0: all of functions/_shared/ reaches both
 * functions, whatever each imports); the deployed code only loads what its graph imports.
 */
export async function importMapFolders(): Promise<string[]> {
  const { imports } = JSON.parse(await readFile(path.join(PROJECT_ROOT, "deno.json"), "utf8")) as {
    imports: Record<string, string>;
  };
  const folders = Object.values(imports).filter((target) => target.startsWith("./") && target.endsWith("/"));
  const files = await Promise.all(
    folders.map(async (folder) =>
      (await readdir(path.join(PROJECT_ROOT, folder), { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(PROJECT_ROOT, path.join(entry.parentPath, entry.name)))
    ),
  );
  return files.flat();
}

/** What a function's upload should hold: its module graph, the import map and the folders the map names. */
export async function expectedUpload(slug: string): Promise<string[]> {
  return [...new Set(["deno.json", ...await moduleGraph(slug), ...await importMapFolders()])].sort();
}

/** The multipart body of one recorded deploy request: its metadata and every file, by the path it was uploaded under. */
export async function upload(requests: RecordedRequest[], projectRef: string, slug: string) {
  const request = requests.find(
    (r) => r.method === "POST" && r.url === `/v1/projects/${projectRef}/functions/deploy?slug=${slug}&bundleOnly=true`,
  );
  if (!request) throw new Error(`no deploy request for ${slug}: ${requests.map((r) => r.url).join(", ")}`);
  const form = await new Response(new Uint8Array(request.body), { headers: { "content-type": request.contentType! } })
    .formData();
  const files = new Map<string, string>();
  for (const file of form.getAll("file") as File[]) files.set(file.name, await file.text());
  return { request, metadata: JSON.parse(String(form.get("metadata"))), files };
}
