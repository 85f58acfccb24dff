import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// The scenarios share one machine's ports, registries and time bounds: files run one after
// another so a slow neighbour never decides whether a run stayed within its bound. The global
// setup collects every scenario's counts and prints the results table at the end.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      globalSetup: ["./test/global-setup.ts"],
      fileParallelism: false,
      testTimeout: 600_000,
      hookTimeout: 120_000,
    },
  }),
);
