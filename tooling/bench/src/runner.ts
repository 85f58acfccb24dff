import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { layerBytesMoved } from "./access-log.js";
import type { BenchRegistry } from "./bench-registry.js";
import { blobsOf, type DatasetId, type PreparedDataset } from "./datasets.js";
import type { ImageLocation, Invocation, ScenarioId, ToolId } from "./invocation.js";
import { blobPath } from "./layout-writer.js";
import { type Command, describeFailure, type Measurement, measure } from "./measure.js";
import { inParallel, manifestDigest, putManifest, uploadBlob } from "./registry-client.js";
import { type Sample, type ScenarioResult, toolResult } from "./results.js";
import { settleDisks } from "./settle-disks.js";
import { rotation } from "./statistics.js";

export interface ToolDriver {
  id: ToolId;
  /** Why the tool cannot run on this machine, or undefined. */
  unavailable?: string;
  /** The scenarios the tool takes part in; all when undefined. */
  scenarios?: ReadonlySet<ScenarioId>;
  command(invocation: Invocation, scratchDir: string): Promise<Command>;
}

export interface RunnerContext {
  source: BenchRegistry;
  target: BenchRegistry;
  tools: ToolDriver[];
  warmup: number;
  runs: number;
  scratchDir: string;
  /** The small image tagged 5,000 times, for the ls and digest scenarios. */
  tagsImage: PreparedDataset;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export const TAG_COUNT = 5000;
const TAGS_REPO = "many/tags";
const RUN_TIMEOUT_MS = 15 * 60_000;

/** A run that finished but did the wrong thing, or did not finish. */
export class RunFailure extends Error {
  override name = "RunFailure";
}

const seeded = new WeakMap<BenchRegistry, Set<string>>();

/** Pushes a dataset to `repo:latest` on a registry once (the benchmark's own plain client). */
async function seed(
  registry: BenchRegistry,
  repo: string,
  dataset: PreparedDataset,
): Promise<void> {
  const done = seeded.get(registry) ?? new Set<string>();
  seeded.set(registry, done);
  if (done.has(repo)) return;
  await inParallel(blobsOf(dataset), 4, (blob) =>
    uploadBlob(registry.url, repo, dataset.layoutDir, blob),
  );
  for (const manifest of dataset.manifests)
    await putManifest(
      registry.url,
      repo,
      manifest.digest === dataset.root.digest ? "latest" : manifest.digest,
      dataset.layoutDir,
      manifest,
    );
  done.add(repo);
}

/** PUTs the same manifest under 5,000 tags: the cheap way to a long tag list. */
export async function seedTags(context: RunnerContext): Promise<void> {
  const { source, tagsImage } = context;
  await seed(source, TAGS_REPO, tagsImage);
  const tags = Array.from(
    { length: TAG_COUNT - 1 },
    (_, i) => `t${String(i + 1).padStart(4, "0")}`,
  );
  await inParallel(tags, 16, (tag) =>
    putManifest(source.url, TAGS_REPO, tag, tagsImage.layoutDir, tagsImage.root),
  );
}

function address(registry: BenchRegistry) {
  return { host: registry.host, url: registry.url };
}

async function expectDigest(location: ImageLocation, digest: string): Promise<void> {
  const found = await manifestDigest(location.registry.url, location.repo, location.tag);
  if (found !== digest)
    throw new RunFailure(
      `${location.registry.host}/${location.repo}:${location.tag} has digest ${found ?? "(none)"}, expected ${digest}`,
    );
}

async function expectLayout(
  dir: string,
  dataset: PreparedDataset,
  withIndex: boolean,
): Promise<void> {
  if (withIndex) {
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
      manifests?: Array<{ digest?: string }>;
    };
    if (!index.manifests?.some((entry) => entry.digest === dataset.root.digest))
      throw new RunFailure(`${dir}/index.json does not list ${dataset.root.digest}`);
  }
  for (const blob of [...dataset.manifests, ...blobsOf(dataset)]) {
    const info = await stat(blobPath(dir, blob.digest)).catch(() => undefined);
    if (info?.size !== blob.size)
      throw new RunFailure(
        `${dir} lacks ${blob.digest} (${blob.size} bytes)${info ? `: it has ${info.size} bytes` : ""}`,
      );
  }
}

function expectOutput(
  tool: ToolId,
  scenario: "digest" | "ls",
  result: Measurement,
  expected: string,
) {
  if (scenario === "digest") {
    const printed =
      tool === "ceiling"
        ? /docker-content-digest:\s*(\S+)/i.exec(result.stdout)?.[1]
        : result.stdout.trim();
    if (printed !== expected)
      throw new RunFailure(
        `${tool} printed digest ${JSON.stringify(printed)}, expected ${expected}`,
      );
    return;
  }
  if (tool === "ceiling") return;
  const count =
    tool === "skopeo"
      ? ((JSON.parse(result.stdout) as { Tags?: unknown[] }).Tags?.length ?? 0)
      : result.stdout.split("\n").filter(Boolean).length;
  if (count !== TAG_COUNT)
    throw new RunFailure(`${tool} listed ${count} tags, expected ${TAG_COUNT}`);
}

interface PlannedRun {
  invocation: Invocation;
  /** Registries whose access logs tell the layer bytes the run moved. */
  watched: BenchRegistry[];
  verify(result: Measurement): Promise<void>;
}

async function plan(
  context: RunnerContext,
  tool: ToolDriver,
  scenario: ScenarioId,
  dataset: PreparedDataset | undefined,
  round: number,
  scratch: string,
): Promise<PlannedRun> {
  const { source, target } = context;
  const name = (dataset?.id ?? "").toLowerCase();
  const sourceImage = (): ImageLocation => ({
    registry: address(source),
    repo: `src/${name}`,
    tag: "latest",
  });
  const needsDataset = () => {
    if (!dataset) throw new Error(`scenario ${scenario} needs a dataset`);
    return dataset;
  };
  switch (scenario) {
    case "push-cold": {
      const data = needsDataset();
      await target.restartEmpty();
      const destination = { registry: address(target), repo: `push/${name}`, tag: "latest" };
      return {
        invocation: { scenario, dataset: data, destination },
        watched: [target],
        verify: () => expectDigest(destination, data.root.digest),
      };
    }
    case "push-warm": {
      const data = needsDataset();
      await seed(source, `warm/${name}`, data);
      // A new tag each run: the blobs are all there, the manifest is not, so the client has
      // to check every blob rather than stop at an existing manifest.
      const destination = {
        registry: address(source),
        repo: `warm/${name}`,
        tag: `${tool.id}-${round}`,
      };
      return {
        invocation: { scenario, dataset: data, destination },
        watched: [source],
        verify: () => expectDigest(destination, data.root.digest),
      };
    }
    case "mount": {
      const data = needsDataset();
      await seed(source, `src/${name}`, data);
      const destination = {
        registry: address(source),
        repo: `mount/${name}-${tool.id}-${round}`,
        tag: "latest",
      };
      return {
        invocation: { scenario, dataset: data, source: sourceImage(), destination },
        watched: [source],
        verify: () => expectDigest(destination, data.root.digest),
      };
    }
    case "pull": {
      const data = needsDataset();
      await seed(source, `src/${name}`, data);
      const outDir = join(scratch, "pulled");
      return {
        invocation: { scenario, dataset: data, source: sourceImage(), outDir },
        watched: [source],
        verify: () => expectLayout(outDir, data, tool.id !== "ceiling"),
      };
    }
    case "copy": {
      const data = needsDataset();
      await seed(source, `src/${name}`, data);
      await target.restartEmpty();
      const destination = { registry: address(target), repo: `copy/${name}`, tag: "latest" };
      return {
        invocation: { scenario, dataset: data, source: sourceImage(), destination },
        watched: [source, target],
        verify: () => expectDigest(destination, data.root.digest),
      };
    }
    case "digest": {
      const location = { registry: address(source), repo: TAGS_REPO, tag: "latest" };
      return {
        invocation: { scenario, source: location },
        watched: [],
        verify: async (result) =>
          expectOutput(tool.id, "digest", result, context.tagsImage.root.digest),
      };
    }
    case "ls":
      return {
        invocation: { scenario, registry: address(source), repo: TAGS_REPO },
        watched: [],
        verify: async (result) => expectOutput(tool.id, "ls", result, ""),
      };
    case "version":
      return { invocation: { scenario }, watched: [], verify: async () => {} };
  }
}

async function runOnce(
  context: RunnerContext,
  tool: ToolDriver,
  scenario: ScenarioId,
  dataset: PreparedDataset | undefined,
  round: number,
): Promise<Sample> {
  const scratch = join(context.scratchDir, `${scenario}-${dataset?.id ?? "x"}-${tool.id}-${round}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    const planned = await plan(context, tool, scenario, dataset, round, scratch);
    const command = await tool.command(planned.invocation, scratch);
    await settleDisks(context.signal);
    const starts = await Promise.all(planned.watched.map((registry) => registry.mark()));
    const result = await measure(command, { timeoutMs: RUN_TIMEOUT_MS, signal: context.signal });
    if (result.exitCode !== 0) throw new RunFailure(describeFailure(command, result));
    const ends = await Promise.all(planned.watched.map((registry) => registry.mark()));
    await planned.verify(result);
    const sample: Sample = {
      wallMs: result.wallMs,
      maxRssKiB: result.maxRssKiB,
      cpuMs: result.cpuMs,
      systemMs: result.systemMs,
      minorFaults: result.minorFaults,
      voluntarySwitches: result.voluntarySwitches,
      involuntarySwitches: result.involuntarySwitches,
    };
    if (dataset && planned.watched.length > 0) {
      const layers = new Map(dataset.layers.map((layer) => [layer.digest, layer.size]));
      sample.layerBytesMoved = planned.watched.reduce(
        (sum, registry, i) =>
          sum +
          layerBytesMoved(registry.logBetween(starts[i] as string, ends[i] as string), layers),
        0,
      );
    }
    return sample;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function progress(samples: Map<ToolId, Sample[]>, failed: Map<ToolId, string>): string {
  return [...samples.entries()]
    .map(([tool, list]) => {
      if (failed.has(tool)) return `${tool} failed`;
      const last = list.at(-1);
      return last ? `${tool} ${(last.wallMs / 1000).toFixed(2)}s` : `${tool} -`;
    })
    .join("  ");
}

/**
 * Runs one scenario (on one dataset) for every tool: warm-up rounds, then counted rounds, the
 * tools taking turns. A tool that fails stops there; the others go on.
 */
export async function runScenario(
  context: RunnerContext,
  scenario: ScenarioId,
  dataset?: PreparedDataset & { id: DatasetId },
): Promise<ScenarioResult> {
  const label = `${scenario}${dataset ? ` ${dataset.id}` : ""}`;
  const taking = context.tools.filter((tool) => tool.scenarios?.has(scenario) ?? true);
  const active = taking.filter((tool) => tool.unavailable === undefined);
  const samples = new Map<ToolId, Sample[]>(active.map((tool) => [tool.id, []]));
  const failed = new Map<ToolId, string>();
  const rounds = context.warmup + context.runs;
  for (let round = 0; round < rounds; round++) {
    for (const tool of rotation(active, round)) {
      if (failed.has(tool.id)) continue;
      context.signal?.throwIfAborted();
      try {
        const sample = await runOnce(context, tool, scenario, dataset, round);
        if (round >= context.warmup) samples.get(tool.id)?.push(sample);
      } catch (error) {
        if (context.signal?.aborted) throw error;
        failed.set(tool.id, error instanceof Error ? error.message : String(error));
        context.log(`${label}: ${tool.id} failed: ${failed.get(tool.id)}`);
      }
    }
    const kind =
      round < context.warmup ? "warm-up" : `run ${round - context.warmup + 1}/${context.runs}`;
    context.log(`${label} ${kind}: ${progress(samples, failed)}`);
  }
  return {
    scenario,
    ...(dataset ? { dataset: { id: dataset.id, title: dataset.title, bytes: dataset.bytes } } : {}),
    tools: taking.map((tool) => {
      if (tool.unavailable !== undefined)
        return toolResult(tool.id, [], { skipped: tool.unavailable });
      const error = failed.get(tool.id);
      return toolResult(tool.id, samples.get(tool.id) ?? [], error === undefined ? {} : { error });
    }),
  };
}
