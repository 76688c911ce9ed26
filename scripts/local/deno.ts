import { createRequire } from "node:module";

/** The Deno executable shipped by the npm `deno` package (its platform sub-package), without the Node shim. */
export function denoExecutable(): string {
  const require = createRequire(import.meta.url);
  return (require("deno/install_api.cjs") as { runInstall(): string }).runInstall();
}

/** Permissions the functions need: network (Postgres, receivers), env, and reading node_modules. */
export const DENO_RUN_FLAGS = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", "--no-prompt"];
