import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "{core,api,worker,sandbox,prisma}/**/*.test.ts",
      "web/src/lib/**/*.test.ts",
      "tests/integration/**/*.test.ts",
    ],
    // Of the dashboard only its plain TypeScript helpers (web/src/lib) have unit tests.
    exclude: ["**/node_modules/**", "web/build/**", "web/.svelte-kit/**", "tests/e2e/**"],
    globalSetup: ["tests/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: two files at a time, each with its own database and Redis prefix.
    maxWorkers: 2,
    pool: "forks",
  },
});
