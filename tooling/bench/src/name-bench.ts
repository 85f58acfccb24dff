// Benchmark: how fast @hoist/name parses image references.
// Parses 100,000 varied, valid references (deterministic, so runs compare) and reports the
// rate. One section of `pnpm bench`; `pnpm --filter @hoist/bench bench:name` runs it alone.

import { performance } from "node:perf_hooks";
import { seededRandom } from "@hoist/harness/seeded-random";
import { parseReference } from "@hoist/name";
import { median } from "./statistics.js";

export interface NameBenchResult {
  node: string;
  references: number;
  byDigest: number;
  runs: number;
  medianMs: number;
  bestMs: number;
  coldMs: number;
  referencesPerSecond: number;
}

const registries = [
  "",
  "",
  "",
  "docker.io/",
  "index.docker.io/",
  "ghcr.io/",
  "gcr.io/",
  "us-docker.pkg.dev/",
  "123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
  "myregistry.azurecr.io/",
  "quay.io/",
  "localhost:5000/",
  "127.0.0.1:5000/",
  "192.168.1.20:8443/",
  "[::1]:5000/",
  "[2001:db8::1]:5000/",
  "registry.internal.example.com:30500/",
];
const namespaces = ["", "", "library/", "team/", "org/project/", "a/b/c/", "my-org/sub_group/"];
const images = ["ubuntu", "alpine", "nginx", "node", "app", "service-api", "worker.v2", "x"];
const tags = ["", "", ":latest", ":22.04", ":v1.2.3", ":1.27-alpine", ":sha-abc1234", ":RC_1"];

function references(count: number): string[] {
  // Seeded, so every run parses the same references.
  const random = seededRandom(0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const hex = (length: number): string => {
    let s = "";
    for (let i = 0; i < length; i++) s += "0123456789abcdef"[Math.floor(random() * 16)];
    return s;
  };
  const generated: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = pick(registries) + pick(namespaces) + pick(images);
    const shape = random();
    if (shape < 0.6) generated.push(base + pick(tags));
    else if (shape < 0.85) generated.push(`${base}@sha256:${hex(64)}`);
    else if (shape < 0.95) generated.push(`${base}${pick(tags)}@sha256:${hex(64)}`);
    else generated.push(`${base}@sha512:${hex(128)}`);
  }
  // Strings built by concatenation are ropes that V8 flattens on first search; references
  // read from argv, files or JSON are flat already, so measure with flat strings.
  return JSON.parse(JSON.stringify(generated)) as string[];
}

export function runNameBench(options: { count?: number; runs?: number } = {}): NameBenchResult {
  const count = options.count ?? 100_000;
  const runs = options.runs ?? 5;
  const inputs = references(count);

  const parseAll = () => {
    let checksum = 0;
    let digests = 0;
    const start = performance.now();
    for (const input of inputs) {
      const ref = parseReference(input);
      checksum += ref.name.length;
      if (ref.kind === "digest") digests++;
    }
    return { ms: performance.now() - start, checksum, digests };
  };

  // One untimed pass lets the JIT settle; the figure is the median of the timed passes.
  const warmup = parseAll();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const result = parseAll();
    if (result.checksum !== warmup.checksum) throw new Error("parsing is not deterministic");
    times.push(result.ms);
  }
  const medianMs = median(times);
  return {
    node: process.version,
    references: count,
    byDigest: warmup.digests,
    runs,
    medianMs,
    bestMs: Math.min(...times),
    coldMs: warmup.ms,
    referencesPerSecond: Math.round((count / medianMs) * 1000),
  };
}

export function formatNameBench(result: NameBenchResult): string {
  return [
    `@hoist/name parseReference, Node ${result.node}`,
    `  ${result.references.toLocaleString("en")} references (${result.byDigest.toLocaleString("en")} by digest), ` +
      `median of ${result.runs} runs after a warm-up`,
    `  total: ${result.medianMs.toFixed(1)} ms (best ${result.bestMs.toFixed(1)} ms, cold first pass ${result.coldMs.toFixed(1)} ms)`,
    `  rate:  ${result.referencesPerSecond.toLocaleString("en")} references/second`,
  ].join("\n");
}
