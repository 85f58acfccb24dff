import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { findBinary } from "./system-binary.js";

const run = promisify(execFile);

/**
 * Runs Debian's skopeo against loopback registries and local files, without a signature policy
 * (`--insecure-policy`), and returns its stdout (up to 64 MiB: `inspect --raw` of big indexes).
 * A missing skopeo throws `MissingBinaryError` with the install hint.
 */
export async function skopeoRun(...args: string[]): Promise<string> {
  const skopeo = findBinary("skopeo", { debianPackage: "skopeo", candidates: ["/usr/bin/skopeo"] });
  const { stdout } = await run(skopeo, ["--insecure-policy", ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}
