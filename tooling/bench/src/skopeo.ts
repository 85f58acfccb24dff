import { existsSync } from "node:fs";
import { type Invocation, imageReference } from "./invocation.js";
import type { Command } from "./measure.js";

export const SKOPEO_BINARY = "/usr/bin/skopeo";

/**
 * skopeo as its users run it against a plain-http registry. `--all` copies every platform of
 * an index (without it skopeo copies only the host's platform); `--quiet` because hoist's
 * progress is off when stderr is not a terminal, too.
 */
export function skopeoCommand(invocation: Invocation, binary = SKOPEO_BINARY): Command {
  const all =
    "dataset" in invocation && invocation.dataset.root.mediaType.includes("index") ? ["--all"] : [];
  const args = ((): string[] => {
    switch (invocation.scenario) {
      case "push-cold":
      case "push-warm":
        return [
          "copy",
          "--quiet",
          "--dest-tls-verify=false",
          ...all,
          `oci:${invocation.dataset.layoutDir}`,
          `docker://${imageReference(invocation.destination)}`,
        ];
      case "pull":
        return [
          "copy",
          "--quiet",
          "--src-tls-verify=false",
          ...all,
          `docker://${imageReference(invocation.source)}`,
          `oci:${invocation.outDir}:latest`,
        ];
      case "copy":
      case "mount":
        return [
          "copy",
          "--quiet",
          "--src-tls-verify=false",
          "--dest-tls-verify=false",
          ...all,
          `docker://${imageReference(invocation.source)}`,
          `docker://${imageReference(invocation.destination)}`,
        ];
      case "digest":
        // skopeo has no digest command; inspect with a format prints just the digest.
        return [
          "inspect",
          "--tls-verify=false",
          "--no-tags",
          "--format",
          "{{.Digest}}",
          `docker://${imageReference(invocation.source)}`,
        ];
      case "ls":
        return [
          "list-tags",
          "--tls-verify=false",
          `docker://${invocation.registry.host}/${invocation.repo}`,
        ];
      case "version":
        return ["--version"];
    }
  })();
  return { command: binary, args };
}

export function skopeoUnavailable(binary = SKOPEO_BINARY): string | undefined {
  return existsSync(binary) ? undefined : `${binary} is missing (sudo apt-get install -y skopeo)`;
}
