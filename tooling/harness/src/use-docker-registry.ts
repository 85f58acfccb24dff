import { afterAll, beforeAll } from "vitest";
import {
  type DockerRegistryOptions,
  type RunningDockerRegistry,
  startDockerRegistry,
} from "./docker-registry.js";

// Kept apart from docker-registry.ts so that programs which are not tests (benchmarks) can
// start a registry through "@hoist/harness/docker-registry" without loading vitest.

/**
 * Starts a docker-registry before the tests of the calling file and stops it after them.
 * Returns a getter, valid inside tests and hooks.
 */
export function useDockerRegistry(
  options: DockerRegistryOptions = {},
): () => RunningDockerRegistry {
  let registry: RunningDockerRegistry | undefined;
  beforeAll(async () => {
    registry = await startDockerRegistry(options);
  });
  afterAll(async () => {
    await registry?.stop();
  });
  return () => {
    if (!registry)
      throw new Error("useDockerRegistry(): the registry is only available inside tests and hooks");
    return registry;
  };
}
