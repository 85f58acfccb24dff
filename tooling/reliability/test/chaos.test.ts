import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type RunningDockerRegistry,
  type RunningFaultProxy,
  startDockerRegistry,
  startFaultProxy,
} from "@hoist/harness";
import { createLayout } from "@hoist/layout";
import { type Image, type ImageIndex, randomImage, randomIndex } from "@hoist/oci";
import { createPuller, createPusher } from "@hoist/remote";
import { createTransport } from "@hoist/transport";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  settledGrowth,
  skopeoWitness,
  snapshotResources,
  suiteSize,
  type Tally,
  timedRun,
} from "../src/index.js";
import { CHAOS_MIXES, type ChaosMix } from "./chaos-mixes.js";
import { expectClean, layoutProblems, tempDir, useTally } from "./support.js";

// Pull, push and copy of a multi-layer image and a two-platform index through the fault proxy
// in front of Debian's docker-registry, for each seeded fault mix. Every run ends verified by
// skopeo (the independent witness: it re-reads what was written and checks every digest) or
// with a typed error within the bound; a layout pulled into is never left half-written, and a
// tag pushed to never names anything incomplete.

const size = suiteSize();
/** The stated bound of one run: a pull, push or copy with its retries and resumes. */
const RUN_BOUND_MS = 120_000;
const witness = skopeoWitness();

type Operation = "pull" | "push" | "copy";
type Subject = "image" | "index";
const OPERATIONS: readonly Operation[] = ["pull", "push", "copy"];

let source: RunningDockerRegistry;
let target: RunningDockerRegistry;
let sourceProxy: RunningFaultProxy;
let targetProxy: RunningFaultProxy;
const expected: Record<Subject, string> = { image: "", index: "" };

/** Incompressible layers of a few hundred KiB: several chunks each, many body faults each. */
const makeImage = (seed: number): Image =>
  randomImage({ layers: 3, layerSize: 200_000, seed: `chaos-image-${seed}` });
const makeIndex = (seed: number): ImageIndex =>
  randomIndex({
    images: 2,
    layers: 2,
    layerSize: 150_000,
    seed: `chaos-index-${seed}`,
    platforms: [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ],
  });

beforeAll(async () => {
  source = await startDockerRegistry();
  target = await startDockerRegistry();
  sourceProxy = await startFaultProxy({ target: source.url });
  targetProxy = await startFaultProxy({ target: target.url });
  // The sources of pulls and copies go in directly, without faults.
  const pusher = createPusher();
  try {
    expected.image = String(
      (await pusher.write(`${source.host}/chaos/image:v1`, makeImage(0))).digest,
    );
    expected.index = String(
      (await pusher.writeIndex(`${source.host}/chaos/index:v1`, makeIndex(0))).digest,
    );
  } finally {
    await pusher.close();
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([sourceProxy?.stop(), targetProxy?.stop()]);
  await Promise.all([source?.stop(), target?.stop()]);
});

interface RunPlan {
  mix: ChaosMix;
  seed: number;
  operation: Operation;
  subject: Subject;
  chunked: boolean;
}

async function chaosRun(tally: Tally, plan: RunPlan, dir: string): Promise<void> {
  const { mix, seed, operation, subject } = plan;
  const label = `${mix.name} #${seed} ${operation} ${subject}`;
  const rules = mix.rules(seed);
  sourceProxy.setRules(rules, { seed });
  targetProxy.setRules(mix.rules(seed + 1), { seed: seed + 1 });
  const repository = `chaos/${operation}-${subject}-${seed}`;
  const layoutPath = join(dir, `layout-${seed}`);
  let want = "";
  const report = await timedRun({ boundMs: RUN_BOUND_MS }, async (signal) => {
    const transport = createTransport({
      headersTimeoutMs: 3000,
      bodyTimeoutMs: 3000,
      connectTimeoutMs: 3000,
    });
    const options = {
      signal,
      ...(plan.chunked && mix.chunkSize ? { chunkSize: mix.chunkSize } : {}),
    };
    const puller = createPuller({ transport });
    const pusher = createPusher({ transport });
    try {
      if (operation === "pull") {
        want = expected[subject];
        const layout = await createLayout(layoutPath);
        const reference = `${sourceProxy.host}/chaos/${subject}:v1`;
        if (subject === "image") {
          await layout.appendImage(await puller.image(reference, { signal }), {
            refName: "pulled",
            signal,
          });
        } else {
          await layout.appendIndex(await puller.index(reference, { signal }), {
            refName: "pulled",
            signal,
          });
        }
      } else if (operation === "push") {
        const content = subject === "image" ? makeImage(seed) : makeIndex(seed);
        want = String(await content.digest());
        const reference = `${targetProxy.host}/${repository}:v1`;
        if (subject === "image") await pusher.write(reference, content as Image, options);
        else await pusher.writeIndex(reference, content as ImageIndex, options);
      } else {
        want = expected[subject];
        await pusher.copy(
          `${sourceProxy.host}/chaos/${subject}:v1`,
          `${targetProxy.host}/${repository}:v1`,
          options,
        );
      }
    } finally {
      await puller.close();
      await pusher.close();
      await transport.close();
    }
  });
  const injected = [...sourceProxy.requests(), ...targetProxy.requests()].filter(
    (record) => record.fault !== undefined,
  ).length;
  tally.injectedFaults(injected);
  sourceProxy.clearRules();
  targetProxy.clearRules();
  sourceProxy.clearRequests();
  targetProxy.clearRequests();

  // The witness reads what the run left, without faults.
  const written =
    operation === "pull" ? `oci:${layoutPath}:pulled` : `docker://${target.host}/${repository}:v1`;
  if (report.outcome === "finished") {
    try {
      const digest = await witness.verifyContent(written);
      if (digest === want) tally.verified(report.durationMs);
      else {
        tally.verified(report.durationMs);
        tally.corrupt(`${label}: skopeo read ${digest}, expected ${want}`);
      }
    } catch (error) {
      tally.verified(report.durationMs);
      tally.corrupt(`${label}: finished, but skopeo cannot read it: ${(error as Error).message}`);
    }
  } else if (
    report.outcome === "failed" &&
    report.classification.typed &&
    /_INVALID_(OPTIONS|ARGUMENT)$/.test(report.classification.code)
  ) {
    // Faults cannot make options invalid: this is the suite calling hoist wrongly.
    tally.untyped(`${label}: ${report.classification.code}: ${(report.error as Error).message}`);
  } else {
    tally.failure(report, label);
    // A failed run may leave nothing, or something whole: never something half-written.
    if (operation === "pull") {
      for (const problem of await layoutProblems(layoutPath)) tally.corrupt(`${label}: ${problem}`);
      const index = await readFile(join(layoutPath, "index.json"), "utf8").catch(() => "");
      if (index.includes('"pulled"')) {
        await witness
          .verifyContent(written)
          .catch((error: Error) =>
            tally.corrupt(`${label}: listed but unreadable: ${error.message}`),
          );
      }
    } else {
      const digest = await witness.manifestDigest(written).catch(() => undefined);
      if (digest !== undefined) {
        await witness
          .verifyContent(written)
          .then((copied) => {
            if (copied !== want) tally.corrupt(`${label}: the tag names ${copied}, not ${want}`);
          })
          .catch((error: Error) =>
            tally.corrupt(`${label}: the tag exists but is incomplete: ${error.message}`),
          );
      }
    }
  }
  await rm(layoutPath, { recursive: true, force: true });
}

describe.each(CHAOS_MIXES.map((mix, index) => [mix.name, mix, index] as const))(
  "chaos: %s",
  (name, mix, index) => {
    const tally = useTally(`chaos: ${name}`, { boundMs: RUN_BOUND_MS });

    it(`${size.runs} seeded runs of pull, push and copy end verified or typed`, async () => {
      const dir = await tempDir();
      const baseline = snapshotResources();
      for (let run = 0; run < size.runs; run++) {
        const seed = (index + 1) * 1000 + run;
        await chaosRun(
          tally,
          {
            mix,
            seed,
            operation: OPERATIONS[run % 3] as Operation,
            // Operations cycle by 3 and subjects by 2: every pair within 6 runs.
            subject: run % 2 === 0 ? "image" : "index",
            chunked: mix.name !== "everything at once" || run % 2 === 1,
          },
          dir,
        );
      }
      const { growth } = await settledGrowth(baseline, { timeoutMs: 10_000 });
      for (const grew of growth) tally.leak(`after ${size.runs} runs: ${grew}`);
      expectClean(tally);
    });
  },
);
