import { defineConfig } from "vitest/config";

// `npm run test:faults`: the fault-injection suite, which starts its own `npm start` and takes a few minutes.
export default defineConfig({
  test: {
    include: ["tests/faults/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 1,
  },
});
