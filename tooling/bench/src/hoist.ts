import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Invocation, imageReference } from "./invocation.js";
import type { Command } from "./measure.js";

/**
 * The hoist CLI as a user runs it: `node apps/hoist/dist/hoist.cjs` with crane's commands and
 * flags. `--insecure` because the benchmark registries speak plain http.
 */
export function hoistCommand(
  invocation: Invocation,
  cliPath: string,
  options: { cpuProfileDir?: string } = {},
): Command {
  const args = ((): string[] => {
    switch (invocation.scenario) {
      case "push-cold":
      case "push-warm":
        return ["push", invocation.dataset.layoutDir, imageReference(invocation.destination)];
      case "pull":
        return ["pull", "--format", "oci", imageReference(invocation.source), invocation.outDir];
      case "copy":
      case "mount":
        return ["copy", imageReference(invocation.source), imageReference(invocation.destination)];
      case "digest":
        return ["digest", imageReference(invocation.source)];
      case "ls":
        return ["ls", `${invocation.registry.host}/${invocation.repo}`];
      case "version":
        return ["version"];
    }
  })();
  const insecure = invocation.scenario === "version" ? [] : ["--insecure"];
  // One directory per scenario and dataset; Node names each profile after its process.
  const profile = options.cpuProfileDir
    ? [
        "--cpu-prof",
        `--cpu-prof-dir=${join(options.cpuProfileDir, `${invocation.scenario}${"dataset" in invocation ? `-${invocation.dataset.id}` : ""}`)}`,
      ]
    : [];
  return { command: process.execPath, args: [...profile, cliPath, ...args, ...insecure] };
}

export function hoistUnavailable(cliPath: string): string | undefined {
  return existsSync(cliPath)
    ? undefined
    : `${cliPath} is missing (the CLI bundle is built by \`pnpm build\`; until it exists only skopeo and the ceilings run)`;
}
