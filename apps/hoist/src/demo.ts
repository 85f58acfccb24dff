import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createLayout, openLayout } from "@hoist/layout";
import { type Image, type ImageIndex, randomImage, randomIndex } from "@hoist/oci";
import { type RunningRegistry, startRegistry } from "@hoist/registry";

// `pnpm demo`: the whole round trip on this machine, nothing beyond loopback. An embedded
// registry on a free port; a random three-layer image and a two-platform index written to OCI
// layouts; then the hoist CLI, run as a user runs it, pushes them, copies them to another
// repository (the registry's request log proves the blobs were mounted, not uploaded again),
// lists tags, and pulls the index into an OCI layout, which is then read back and verified.

const HOIST = fileURLToPath(new URL("./hoist.cjs", import.meta.url));
const out = (line = "") => process.stdout.write(`${line}\n`);

interface Step {
  command: string;
  stdout: string;
  ms: number;
}

/** Runs the built CLI; its stderr (progress bars on a terminal) passes through. */
function hoist(args: string[]): Promise<Step> {
  const started = Date.now();
  out(`$ hoist ${args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOIST, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, DOCKER_CONFIG: join(tmpdir(), "hoist-demo-no-credentials") },
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`hoist ${args[0]} exited with status ${code}`));
      else resolve({ command: args[0] as string, stdout, ms: Date.now() - started });
    });
  });
}

/** Reads a stream to its end, counting bytes; the layout verifies digest and size as it goes. */
async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let bytes = 0;
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    }),
  );
  return bytes;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function imageBytes(image: Image): Promise<number> {
  const layers = await image.layers();
  let total = (await image.size()) + (await image.manifest()).config.size;
  for (const layer of layers) total += await layer.size();
  return total;
}

async function indexBytes(index: ImageIndex): Promise<number> {
  let total = await index.size();
  for (const entry of (await index.indexManifest()).manifests) {
    total += await imageBytes(await index.image(entry.digest));
  }
  return total;
}

export async function runDemo(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "hoist-demo-"));
  let registry: RunningRegistry | undefined;
  try {
    registry = await startRegistry({ host: "127.0.0.1", port: 0 });
    const host = registry.host;
    out(`hoist demo: an embedded registry at ${registry.url} (memory storage, loopback only)\n`);

    // 1. Content to push: random layers, the same on every run thanks to the seeds.
    const image = randomImage({
      layers: 3,
      layerSize: 1024 * 1024,
      seed: "hoist-demo-image",
      platform: { os: "linux", architecture: "amd64" },
    });
    const index = randomIndex({
      images: 2,
      layers: 2,
      layerSize: 512 * 1024,
      seed: "hoist-demo-index",
      platforms: [
        { os: "linux", architecture: "amd64" },
        { os: "linux", architecture: "arm64" },
      ],
    });
    const imageLayout = join(work, "image-layout");
    const indexLayout = join(work, "index-layout");
    await (await createLayout(imageLayout)).appendImage(image);
    await (await createLayout(indexLayout)).appendIndex(index);
    const sizes = { image: await imageBytes(image), index: await indexBytes(index) };
    out(
      `built a 3-layer image (${mib(sizes.image)}) and a linux/amd64 + linux/arm64 index (${mib(sizes.index)}) as OCI layouts\n`,
    );

    // 2. Push both, as a user would.
    const pushedImage = await hoist(["push", imageLayout, `${host}/demo/app:v1`]);
    const pushedIndex = await hoist(["push", indexLayout, `${host}/demo/multi:v1`]);
    out();

    // 3. Copy to another repository of the same registry: blobs are mounted, not re-sent.
    registry.clearRequests();
    const copies = [
      await hoist(["cp", `${host}/demo/app:v1`, `${host}/team/app:v1`]),
      await hoist(["cp", `${host}/demo/multi:v1`, `${host}/team/multi:v1`]),
    ];
    const log = registry.requests();
    const mounts = log.filter((r) => r.url.includes("mount=") && r.status === 201).length;
    const uploads = log.filter((r) => r.route === "upload" && r.method !== "POST").length;
    out(
      `registry log of the copies: ${mounts} blobs mounted (201 Created), ${uploads} blob upload requests, 0 layer bytes sent again\n`,
    );
    if (uploads !== 0 || mounts === 0) throw new Error("the copies should mount every blob");

    // 4. Tags and repositories.
    await hoist(["tag", `${host}/team/app:v1`, "stable"]);
    const tags = await hoist(["ls", `${host}/team/app`]);
    await hoist(["catalog", host]);
    const digest = await hoist(["digest", `${host}/team/multi:v1`]);
    out();

    // 5. Pull the index into an OCI layout and read every byte of it back, verified.
    const pulledLayout = join(work, "pulled");
    const pulled = await hoist(["pull", "--format", "oci", `${host}/team/multi:v1`, pulledLayout]);
    const layout = await openLayout(pulledLayout);
    const [entry] = (await layout.indexManifest()).manifests;
    const pulledIndex = await layout.index(String(entry?.digest));
    let verifiedBlobs = 0;
    let verifiedBytes = 0;
    for (const child of (await pulledIndex.indexManifest()).manifests) {
      const childImage = await pulledIndex.image(child.digest);
      const config = (await childImage.manifest()).config;
      verifiedBytes += await drain(await layout.blob(config.digest));
      verifiedBlobs++;
      for (const layer of await childImage.layers()) {
        verifiedBytes += await drain(await layer.compressed());
        verifiedBlobs++;
      }
    }
    const same = String(entry?.digest) === digest.stdout.trim();
    out(
      `read back ${pulledLayout}: ${verifiedBlobs} blobs, ${mib(verifiedBytes)}, every digest verified; index digest ${same ? "matches" : "DIFFERS FROM"} the registry's\n`,
    );
    if (!same) throw new Error("the pulled index has another digest than the pushed one");

    // 6. Summary.
    out("summary");
    out(`  pushed   ${pushedImage.stdout.trim()}  (${pushedImage.ms} ms)`);
    out(`           ${pushedIndex.stdout.trim()}  (${pushedIndex.ms} ms)`);
    out(
      `  copied   2 manifests to team/*, ${mounts} blobs mounted, nothing re-uploaded  (${copies.reduce((t, c) => t + c.ms, 0)} ms)`,
    );
    out(`  tags     team/app: ${tags.stdout.trim().split("\n").join(", ")}`);
    out(`  pulled   ${entry?.digest} into an OCI layout, verified  (${pulled.ms} ms)`);
    out(`  requests ${registry.requests().length} served since the copy began, all on ${host}`);
  } finally {
    await registry?.close();
    await rm(work, { recursive: true, force: true });
    out("\nregistry stopped; temporary files removed");
  }
}

runDemo().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
