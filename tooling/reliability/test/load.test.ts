import { createHash } from "node:crypto";
import { join } from "node:path";
import { type RunningDockerRegistry, startDockerRegistry } from "@hoist/harness";
import { createLayout } from "@hoist/layout";
import { type Image, randomImage } from "@hoist/oci";
import { createPuller, createPusher } from "@hoist/remote";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  settledGrowth,
  skopeoWitness,
  snapshotResources,
  suiteSize,
  timedRun,
} from "../src/index.js";
import { expectClean, tempDir, useTally } from "./support.js";

// 50 concurrent pulls of distinct images through one Puller against the real docker-registry:
// every byte hashed here against the digests the images were made with (and skopeo reading
// what was written), sockets and file handles back to where they were, memory bounded.

const size = suiteSize();
const PULLS = size.concurrentPulls;
const BOUND_MS = 120_000;
/** Growth of resident memory allowed while 50 pulls stream about 40 MiB in all. */
const MEMORY_BOUND_BYTES = 256 * 1024 * 1024;
const tally = useTally(`load: ${PULLS} concurrent pulls, one client`, { boundMs: BOUND_MS });

let registry: RunningDockerRegistry;
const images: { reference: string; image: Image; digest: string; blobs: Map<string, number> }[] =
  [];

beforeAll(async () => {
  registry = await startDockerRegistry();
  const pusher = createPusher();
  try {
    for (let i = 0; i < PULLS; i++) {
      const image = randomImage({ layers: 2, layerSize: 400_000, seed: `load-${i}` });
      const reference = `${registry.host}/load/app-${i}:v1`;
      const { digest } = await pusher.write(reference, image);
      const blobs = new Map<string, number>();
      for (const layer of await image.layers())
        blobs.set(String(await layer.digest()), await layer.size());
      images.push({ reference, image, digest: String(digest), blobs });
    }
  } finally {
    await pusher.close();
  }
}, 300_000);

afterAll(async () => {
  await registry?.stop();
});

describe("load", () => {
  it(`${PULLS} concurrent pulls of distinct images through one client`, async () => {
    const dir = await tempDir();
    const layout = await createLayout(join(dir, "layout"));
    const baseline = snapshotResources();
    let peakRss = baseline.rssBytes;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    let peakSockets = 0;
    const puller = createPuller();
    try {
      const reports = await Promise.all(
        images.map(({ reference, digest, blobs }, i) =>
          timedRun({ boundMs: BOUND_MS }, async (signal) => {
            const image = await puller.image(reference, { signal });
            if (String(await image.digest({ signal })) !== digest) {
              throw new Error(`image ${i} has digest ${String(await image.digest())}`);
            }
            // Hash every byte here, independently of the verification inside hoist.
            for (const layer of await image.layers({ signal })) {
              const want = String(await layer.digest({ signal }));
              const hash = createHash("sha256");
              let bytes = 0;
              for await (const chunk of await layer.compressed({ signal })) {
                hash.update(chunk as Uint8Array);
                bytes += (chunk as Uint8Array).length;
              }
              const got = `sha256:${hash.digest("hex")}`;
              if (got !== want || !blobs.has(got) || blobs.get(got) !== bytes) {
                throw new Error(`image ${i}: layer ${want} read back as ${got} (${bytes} bytes)`);
              }
            }
            peakSockets = Math.max(peakSockets, snapshotResources().sockets);
            await layout.appendImage(image, { refName: `app-${i}`, signal });
          }),
        ),
      );
      for (const [i, report] of reports.entries()) {
        if (report.outcome === "finished") tally.verified(report.durationMs);
        else tally.failure(report, `pull ${i}`);
      }
    } finally {
      await puller.close();
      clearInterval(sampler);
    }
    // skopeo reads what was pulled: every image in the full run, a sample in CI.
    const checked = size.full ? images.length : 5;
    for (let i = 0; i < checked; i++) {
      const index = Math.floor((i * images.length) / checked);
      const digest = await skopeoWitness()
        .verifyContent(`oci:${layout.path}:app-${index}`)
        .catch((error: Error) => error.message);
      if (digest !== images[index]?.digest) tally.corrupt(`app-${index}: skopeo says ${digest}`);
    }
    const { growth, after } = await settledGrowth(baseline, { timeoutMs: 10_000 });
    for (const grew of growth) tally.leak(`after the pulls: ${grew}`);
    const memory = peakRss - baseline.rssBytes;
    if (memory > MEMORY_BOUND_BYTES) {
      tally.leak(`resident memory grew ${(memory / 2 ** 20).toFixed(0)} MiB during the pulls`);
    }
    console.log(
      `load: ${PULLS} pulls, peak RSS +${(memory / 2 ** 20).toFixed(1)} MiB, ` +
        `peak sockets ${peakSockets} (baseline ${baseline.sockets}, after ${after.sockets}), ` +
        `files ${baseline.files} -> ${after.files}`,
    );
    expect(peakSockets).toBeGreaterThan(baseline.sockets);
    expectClean(tally);
  });
});
