import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { findBinary } from "@hoist/harness";
import { createLayout } from "@hoist/layout";
import { type Image, type ImageIndex, randomImage, randomIndex } from "@hoist/oci";

const exec = promisify(execFile);

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** skopeo, the independent witness: what it reads from the registry is what we wrote. */
export async function skopeo(args: string[]): Promise<Buffer> {
  const binary = findBinary("skopeo", { debianPackage: "skopeo", candidates: ["/usr/bin/skopeo"] });
  const { stdout } = await exec(binary, args, {
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** The manifest skopeo reads for `ref` (a plain-http loopback registry). */
export function skopeoRaw(ref: string): Promise<Buffer> {
  return skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
}

export function testImage(seed: string, layers = 2): Image {
  return randomImage({
    layers,
    layerSize: 4096,
    seed,
    platform: { os: "linux", architecture: "amd64" },
  });
}

export function testIndex(seed: string): ImageIndex {
  return randomIndex({
    images: 2,
    layers: 1,
    layerSize: 2048,
    seed,
    platforms: [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ],
  });
}

/** An OCI layout holding the given images and indexes, one entry each. */
export async function layoutWith(
  dir: string,
  name: string,
  items: (Image | ImageIndex)[],
): Promise<string> {
  const path = join(dir, name);
  const layout = await createLayout(path);
  for (const item of items) {
    if ("layers" in item) await layout.appendImage(item);
    else await layout.appendIndex(item);
  }
  return path;
}
