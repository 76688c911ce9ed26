import { createRequire } from "node:module";

/** The Deno executable shipped by the npm `deno` package (its platform sub-package), without the Node shim. */
export function denoExecutable(): string {
  const require = createRequire(import.meta.url);
  return (require("deno/install_api.cjs") as { runInstall(): string }).runInstall();
}

/**
 * Permissions the functions need (network for Postgres and receivers, env, reading node_modules), and npm
 * packages taken from the installed node_modules rather than fetched: deno.json stays the plain import map that
 * `supabase functions deploy` bundles from.
 */
export const DENO_RUN_FLAGS = [
  "run",
  "--node-modules-dir=manual",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-sys",
  "--no-prompt",
];
