import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The same alias as deno.json's import map and tsconfig's paths; vitest.faults.config.ts uses it too. */
export const alias = { "@shared/": fileURLToPath(new URL("./functions/_shared/", import.meta.url)) };

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["tests/**/*.test.ts"],
    // Minutes long, with its own `npm start`: `npm run test:faults` (vitest.faults.config.ts).
    exclude: ["tests/faults/**", "**/node_modules/**"],
    globalSetup: ["tests/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Suites share one Postgres; each works in workspaces of its own, so files may run side by side.
    pool: "forks",
    maxWorkers: 2,
  },
});
