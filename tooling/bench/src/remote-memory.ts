// Benchmark: memory of @hoist/remote moving a 1 GiB layer.
// Pushes a single-layer image whose 1 GiB layer is generated as a stream (never held) to
// Debian's docker-registry on loopback, pulls it back reading the layer through verification,
// and prints the peak resident set size of this process. The target is under 150 MiB: memory
// must not grow with layer size. Run with `pnpm --filter @hoist/bench bench:remote-memory`
// after a build. Set HOIST_BENCH_LAYER_MIB to change the layer size.

import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
// Not "@hoist/harness": its test hooks load vitest, which is no part of what is measured.
import { startDockerRegistry } from "@hoist/harness/docker-registry";
// The layer repeats a 1 MiB block handed out as views, so the source allocates nothing per
// chunk: what is measured is hoist's footprint (a file or socket source adds its read buffers).
import { generatedTar } from "@hoist/harness/generated-tar";
import { appendLayers, emptyImage, layerFromStream } from "@hoist/oci";
import { createPuller, createPusher } from "@hoist/remote";
import { describeMachine, formatMachine } from "./machine.js";

const MIB = 1024 * 1024;
const LAYER_BYTES = Number(process.env.HOIST_BENCH_LAYER_MIB ?? 1024) * MIB;
const TARGET_MIB = 150;

/** Samples RSS often; `process.resourceUsage().maxRSS` gives the kernel's own peak too. */
function watchMemory(): { peakMiB: () => number; stop: () => void } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    peakMiB: () => Math.max(peak, process.resourceUsage().maxRSS * 1024) / MIB,
    stop: () => clearInterval(timer),
  };
}

const rate = (bytes: number, ms: number) => `${((bytes / MIB / ms) * 1000).toFixed(0)} MiB/s`;

async function main(): Promise<void> {
  console.log(`@hoist/remote memory, ${LAYER_BYTES / MIB} MiB layer`);
  console.log(formatMachine(describeMachine()));
  const registry = await startDockerRegistry();
  const baseline = process.memoryUsage.rss() / MIB;
  console.log(`RSS before the transfer (Node, modules loaded) ${baseline.toFixed(0)} MiB`);
  const memory = watchMemory();
  const reference = `${registry.host}/bench/memory:v1`;
  try {
    const layer = layerFromStream(generatedTar(LAYER_BYTES));
    const image = appendLayers(emptyImage(), [layer]);
    const pusher = createPusher();
    let started = performance.now();
    try {
      await pusher.write(reference, image);
    } finally {
      await pusher.close();
    }
    const pushMs = performance.now() - started;
    const size = await layer.size();
    console.log(
      `push  ${(pushMs / 1000).toFixed(1)} s  ${rate(size, pushMs)}  peak RSS so far ${memory.peakMiB().toFixed(0)} MiB`,
    );

    const puller = createPuller();
    started = performance.now();
    let read = 0;
    try {
      const [pulled] = await (await puller.image(reference)).layers();
      if (!pulled) throw new Error("the pulled image has no layer");
      await pipeline(
        await pulled.compressed(),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            read += chunk.length;
            callback();
          },
        }),
      );
    } finally {
      await puller.close();
    }
    const pullMs = performance.now() - started;
    if (read !== size) throw new Error(`pulled ${read} bytes, pushed ${size}`);
    console.log(
      `pull  ${(pullMs / 1000).toFixed(1)} s  ${rate(read, pullMs)}  (digest verified while streaming)`,
    );
  } finally {
    memory.stop();
    await registry.stop();
  }
  const peak = memory.peakMiB();
  const verdict = peak < TARGET_MIB ? "within" : "OVER";
  console.log(`peak RSS ${peak.toFixed(0)} MiB (${verdict} the ${TARGET_MIB} MiB target)`);
  if (peak >= TARGET_MIB) process.exitCode = 1;
}

await main();
