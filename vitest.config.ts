import { defineConfig } from "vitest/config";

// chDB binds one data directory per process, so every test file runs in its own
// child process (forks pool, isolated) with its own temporary directory.
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    poolOptions: { forks: { isolate: true } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ["default"],
    // Prints the conformance table (library × fact) of the run at its end.
    globalSetup: ["test/support/conformance-report.ts"],
  },
});
