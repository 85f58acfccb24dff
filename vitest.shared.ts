import { defineConfig } from "vitest/config";

// One test configuration for every workspace package: each package's vitest.config.ts
// re-exports this, so `vitest run` behaves the same from the package or from turbo.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Time limits only catch hangs; no test asserts on speed. CI runs every package's tests at
    // once on two cores, where a test that takes 2 s alone can take forty, so the limits are wide.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    restoreMocks: true,
    clearMocks: true,
  },
});
