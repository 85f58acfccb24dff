import { defineConfig } from "vitest/config";

// One test configuration for every workspace package: each package's vitest.config.ts
// re-exports this, so `vitest run` behaves the same from the package or from turbo.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    restoreMocks: true,
    clearMocks: true,
  },
});
