import { defineConfig } from "vitest/config";

export default defineConfig({
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
