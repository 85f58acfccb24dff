import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinary } from "@hoist/harness";

/**
 * skopeo (containers/image) as the independent witness of what hoist wrote: it reads registries
 * and layouts with its own code and checks every blob's digest while it copies.
 */
export interface Witness {
  /** The sha256 digest of the manifest `reference` names (`docker://…`, `oci:…`). */
  manifestDigest(reference: string, options?: { signal?: AbortSignal }): Promise<string>;
  /** The sha256 digest of the config of the image `reference` names. */
  configDigest(reference: string, options?: { signal?: AbortSignal }): Promise<string>;
  /**
   * Copies everything `reference` names (all platforms) into a scratch layout, which makes
   * skopeo fetch and verify every blob; resolves with the manifest digest it copied, rejects
   * with skopeo's complaint.
   */
  verifyContent(reference: string, options?: { signal?: AbortSignal }): Promise<string>;
}

const TIMEOUT_MS = 120_000;

function run(binary: string, args: string[], signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { encoding: "buffer", timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, signal },
      (error, stdout, stderr) => {
        if (error) {
          const said = stderr.toString("utf8").trim().split("\n").slice(-3).join(" | ");
          reject(new Error(`skopeo ${args.slice(0, 3).join(" ")}: ${said || error.message}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** The witness, with plain-http loopback registries allowed. */
export function skopeoWitness(): Witness {
  const skopeo = findBinary("skopeo", { debianPackage: "skopeo", candidates: ["/usr/bin/skopeo"] });
  const base = ["--insecure-policy"];
  return {
    async manifestDigest(reference, options = {}) {
      const tls = reference.startsWith("docker://") ? ["--tls-verify=false"] : [];
      const raw = await run(
        skopeo,
        [...base, "inspect", ...tls, "--raw", reference],
        options.signal,
      );
      return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
    },
    async configDigest(reference, options = {}) {
      const tls = reference.startsWith("docker://") ? ["--tls-verify=false"] : [];
      const raw = await run(
        skopeo,
        [...base, "inspect", ...tls, "--config", "--raw", reference],
        options.signal,
      );
      return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
    },
    async verifyContent(reference, options = {}) {
      const scratch = await mkdtemp(join(tmpdir(), "hoist-witness-"));
      try {
        const tls = reference.startsWith("docker://") ? ["--src-tls-verify=false"] : [];
        const target = `oci:${join(scratch, "copy")}:witness`;
        await run(
          skopeo,
          [...base, "copy", "--all", "--quiet", ...tls, reference, target],
          options.signal,
        );
        return await this.manifestDigest(target, options);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}
