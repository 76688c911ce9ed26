import { defineConfig } from "vitest/config";
import { alias } from "./vitest.config.ts";

// `npm run test:faults`: the fault-injection suite, which starts its own `npm start` and takes a few minutes.
export default defineConfig({
  resolve: { alias },
  test: {
    include: ["tests/faults/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 1,
  },
});
