import { createRequire } from "node:module";

/** The Deno executable shipped by the npm `deno` package (its platform sub-package), without the Node shim. */
export function denoExecutable(): string {
  const require = createRequire(import.meta.url);
  return (require("deno/install_api.cjs") as { runInstall(): string }).runInstall();
}

/**
 * A hosted function's memory limit (supabase.com/docs/guides/functions/limits). The edge runtime creates each
 * function's isolate with `heap_limits(0, memory_limit)` (supabase/edge-runtime, crates/base/src/runtime/mod.rs;
 * 256 MiB by default, ext/workers/context.rs), and V8 sizes the young generation from that limit: a few MB,
 * where `deno run` sizes it from the machine's memory (up to 16 MB a semi-space), which kept three times the
 * memory for the same load (docs/performance.md).
 */
export const FUNCTION_MEMORY_LIMIT_MB = 256;

/**
 * Permissions the functions need (network for Postgres and receivers, env, reading node_modules), npm packages
 * taken from the installed node_modules rather than fetched (deno.json stays the plain import map that
 * `supabase functions deploy` bundles from), and the heap a deployed function's isolate gets.
 */
export const DENO_RUN_FLAGS = [
  "run",
  "--node-modules-dir=manual",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-sys",
  "--no-prompt",
  `--v8-flags=--max-heap-size=${FUNCTION_MEMORY_LIMIT_MB}`,
];
