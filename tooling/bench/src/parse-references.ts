// Benchmark: how fast @hoist/name parses image references.
// Parses 100,000 varied, valid references (deterministic, so runs compare) and prints the
// rate. Run with `pnpm --filter @hoist/bench bench:name` after a build.

import { performance } from "node:perf_hooks";
import { parseReference } from "@hoist/name";

const COUNT = 100_000;
const RUNS = 5;

// mulberry32: a tiny seeded generator, so every run parses the same references.
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = generator(0x5eed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const hex = (length: number): string => {
  let s = "";
  for (let i = 0; i < length; i++) s += "0123456789abcdef"[Math.floor(random() * 16)];
  return s;
};

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

function reference(): string {
  const base = pick(registries) + pick(namespaces) + pick(images);
  const shape = random();
  if (shape < 0.6) return base + pick(tags);
  if (shape < 0.85) return `${base}@sha256:${hex(64)}`;
  if (shape < 0.95) return `${base}${pick(tags)}@sha256:${hex(64)}`;
  return `${base}@sha512:${hex(128)}`;
}

const generated: string[] = [];
for (let i = 0; i < COUNT; i++) generated.push(reference());
// Strings built by concatenation are ropes that V8 flattens on first search; references
// read from argv, files or JSON are flat already, so measure with flat strings.
const inputs = JSON.parse(JSON.stringify(generated)) as string[];

function parseAll(): { ms: number; checksum: number; digests: number } {
  let checksum = 0;
  let digests = 0;
  const start = performance.now();
  for (const input of inputs) {
    const ref = parseReference(input);
    checksum += ref.name.length;
    if (ref.kind === "digest") digests++;
  }
  return { ms: performance.now() - start, checksum, digests };
}

// One untimed pass lets the JIT settle; the figure is the median of the timed passes.
const warmup = parseAll();
const times: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const result = parseAll();
  if (result.checksum !== warmup.checksum) throw new Error("parsing is not deterministic");
  times.push(result.ms);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(RUNS / 2)] as number;
const best = times[0] as number;

console.log(`@hoist/name parseReference, Node ${process.version}`);
console.log(
  `  ${COUNT.toLocaleString("en")} references (${warmup.digests.toLocaleString("en")} by digest), ` +
    `median of ${RUNS} runs after a warm-up`,
);
console.log(
  `  total: ${median.toFixed(1)} ms (best ${best.toFixed(1)} ms, cold first pass ${warmup.ms.toFixed(1)} ms)`,
);
console.log(
  `  rate:  ${Math.round((COUNT / median) * 1000).toLocaleString("en")} references/second`,
);
