import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, stat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describeFailure, measure } from "./measure.js";
import { randomBytes } from "./random-bytes.js";
import { type Summary, summarize } from "./statistics.js";

export interface HashCeiling {
  bytes: number;
  /** MB/s (10^6 bytes per second) of each run. */
  nodeCrypto: Summary;
  sha256sum: Summary;
}

const SIZE = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;

async function ensureInput(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.size === SIZE) return;
  await pipeline(
    Readable.from(randomBytes("hoist-bench/sha256", SIZE)),
    createWriteStream(`${path}.partial`),
  );
  await rename(`${path}.partial`, path);
}

/**
 * sha256 throughput, the bound on any client that verifies what it moves: Node's crypto over
 * 1 MiB chunks (how a streaming client feeds it) and coreutils' sha256sum over a cached file.
 */
export async function measureHashCeiling(options: {
  inputPath: string;
  warmup: number;
  runs: number;
}): Promise<HashCeiling> {
  await ensureInput(options.inputPath);
  const chunks: Buffer[] = [];
  for await (const chunk of randomBytes("hoist-bench/sha256", 64 * CHUNK)) chunks.push(chunk);
  const node: number[] = [];
  const coreutils: number[] = [];
  for (let round = 0; round < options.warmup + options.runs; round++) {
    const hash = createHash("sha256");
    const start = performance.now();
    for (let i = 0; i < SIZE / CHUNK; i++) hash.update(chunks[i % chunks.length] as Buffer);
    hash.digest();
    const nodeMs = performance.now() - start;
    const command = { command: "sha256sum", args: [options.inputPath] };
    const result = await measure(command);
    if (result.exitCode !== 0) throw new Error(describeFailure(command, result));
    if (round < options.warmup) continue;
    node.push(SIZE / 1e6 / (nodeMs / 1000));
    coreutils.push(SIZE / 1e6 / (result.wallMs / 1000));
  }
  return { bytes: SIZE, nodeCrypto: summarize(node), sha256sum: summarize(coreutils) };
}
