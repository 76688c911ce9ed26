// What each deployed function loads before its first answer: the npm packages of its static module graph, as
// Deno resolves it (dynamic imports, such as the database seam and the OpenAPI document, load later and only where
// used). Each package is paid for at every cold start (`npm run -s bench:cold-start`): zod alone is 95 modules,
// and a value import through a shared module once put it in the dispatcher, which validates nothing with it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { denoExecutable } from "@scripts/local/deno.ts";
import { PROJECT_ROOT } from "@scripts/local/paths.ts";

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}

async function staticPackages(name: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    denoExecutable(),
    ["info", "--json", "--node-modules-dir=manual", "--config", "deno.json", `functions/${name}/index.ts`],
    { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  const graph = JSON.parse(stdout) as {
    roots: string[];
    modules: { specifier: string; dependencies?: Dependency[] }[];
    redirects: Record<string, string>;
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    const resolved = graph.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) return;
    seen.add(resolved);
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(resolved)?.[1];
    if (pkg) packages.add(pkg);
    for (const dependency of modules.get(resolved)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) visit(dependency.code.specifier);
    }
  };
  graph.roots.forEach(visit);
  return [...packages].sort();
}

describe("what a deployed function loads at start", () => {
  it("the gateway: hono, zod for its input, @noble/hashes for the key's digest", async () => {
    expect(await staticPackages("api-gateway")).toEqual(["@noble/hashes", "hono", "zod"]);
  });

  it("the dispatcher: hono and @noble/hashes, no zod", async () => {
    expect(await staticPackages("webhook-dispatcher")).toEqual(["@noble/hashes", "hono"]);
  });
});
