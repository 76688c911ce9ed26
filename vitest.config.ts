import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The same aliases as tsconfig's paths; deno.json's import map has those the functions use (it is deployed with
 * them). vitest.faults.config.ts uses them too.
 */
export const alias = Object.fromEntries(
  Object.entries({
    "@shared/": "./functions/_shared/",
    "@gateway/": "./functions/api-gateway/",
    "@dispatcher/": "./functions/webhook-dispatcher/",
    "@scripts/": "./scripts/",
    "@support/": "./tests/support/",
  }).map(([name, folder]) => [name, fileURLToPath(new URL(folder, import.meta.url))]),
);

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
