import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type RunningDockerRegistry,
  type RunningFaultProxy,
  seededRandom,
  startDockerRegistry,
  startFaultProxy,
} from "@hoist/harness";
import { createLayout } from "@hoist/layout";
import { type Image, type ImageIndex, randomImage, randomIndex } from "@hoist/oci";
import { createPusher } from "@hoist/remote";
import { afterAll, beforeAll, describe, it } from "vitest";
import { skopeoWitness, suiteSize, type Tally } from "../src/index.js";
import { CHAOS_MIXES } from "./chaos-mixes.js";
import { classifyCli, HOIST_CLI, hoist } from "./cli.js";
import { expectClean, fileTempDir, layoutProblems, tempDir, useTally } from "./support.js";

// The CLI under the mixed chaos (stalls left out, see below): `hoist pull` to a tarball and to an OCI layout, `hoist push`
// from a layout and `hoist cp`, through the fault proxy; then `hoist pull` killed at a seeded
// moment. A run ends verified by skopeo or with a typed one-line error; an output file is whole
// or absent, never half-written.

const size = suiteSize();
const BOUND_MS = 120_000;
const witness = skopeoWitness();
const mix = CHAOS_MIXES.find((m) => m.name === "everything at once");
if (!mix) throw new Error("the mixed chaos is missing");

let registry: RunningDockerRegistry;
let proxy: RunningFaultProxy;
let work: string;
let image: Image;
let index: ImageIndex;
const expected = { imageDigest: "", imageConfig: "", indexDigest: "" };

beforeAll(async () => {
  registry = await startDockerRegistry();
  proxy = await startFaultProxy({ target: registry.url });
  work = await fileTempDir();
  image = randomImage({ layers: 3, layerSize: 300_000, seed: "chaos-cli" });
  index = randomIndex({
    images: 2,
    layers: 2,
    layerSize: 200_000,
    seed: "chaos-cli-index",
    platforms: [
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64" },
    ],
  });
  const pusher = createPusher();
  try {
    expected.imageDigest = String(
      (await pusher.write(`${registry.host}/cli/image:v1`, image)).digest,
    );
    expected.indexDigest = String(
      (await pusher.writeIndex(`${registry.host}/cli/index:v1`, index)).digest,
    );
  } finally {
    await pusher.close();
  }
  expected.imageConfig = String(await image.configName());
  const layout = await createLayout(join(work, "source-layout"));
  await layout.appendImage(image, { refName: "v1" });
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** Files an interrupted or failed write may leave beside its target: never the target itself. */
async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith("."));
}

/** Checks what a pull left at `output`: verified, absent, or counted as corrupt. */
async function checkOutput(
  tally: Tally,
  label: string,
  format: "tarball" | "oci",
  output: string,
  finished: boolean,
): Promise<boolean> {
  if (format === "tarball") {
    if (!existsSync(output)) {
      if (finished) tally.corrupt(`${label}: exit 0 but no tarball`);
      return false;
    }
    try {
      await witness.verifyContent(`docker-archive:${output}`);
      const config = await witness.configDigest(`docker-archive:${output}`);
      if (config !== expected.imageConfig)
        tally.corrupt(`${label}: the tarball holds config ${config}`);
      return true;
    } catch (error) {
      tally.corrupt(`${label}: a tarball skopeo cannot read: ${(error as Error).message}`);
      return false;
    }
  }
  for (const problem of await layoutProblems(output)) tally.corrupt(`${label}: ${problem}`);
  const indexJson = await readFile(join(output, "index.json"), "utf8").catch(() => "");
  const listed = (JSON.parse(indexJson || '{"manifests":[]}').manifests as unknown[]).length;
  if (listed === 0) {
    if (finished) tally.corrupt(`${label}: exit 0 but the layout lists nothing`);
    return false;
  }
  // Whatever is listed must be whole: skopeo copies every entry.
  try {
    const digest = await witness.verifyContent(`oci:${output}`);
    if (finished && digest !== expected.indexDigest) {
      tally.corrupt(`${label}: the layout holds ${digest}, not ${expected.indexDigest}`);
    }
    return true;
  } catch (error) {
    tally.corrupt(`${label}: a layout entry skopeo cannot read: ${(error as Error).message}`);
    return false;
  }
}

describe("chaos through the CLI", () => {
  const tally = useTally("chaos: the CLI (pull, push, cp) under everything at once", {
    boundMs: BOUND_MS,
  });

  it(`${size.runs * 2} seeded runs end verified or with a typed one-line error`, async () => {
    const operations = ["pull tarball", "pull oci", "push", "cp"] as const;
    for (let run = 0; run < size.runs * 2; run++) {
      const seed = 90_000 + run;
      const operation = operations[run % operations.length] as (typeof operations)[number];
      const label = `cli ${operation} #${seed}`;
      const out = await tempDir();
      // No stalls here: the CLI has no timeout flags, so a stall costs it the transport's
      // default 120 s per attempt (the library scenarios test stalls with short timeouts).
      proxy.setRules(
        mix.rules(seed).filter((rule) => !rule.fault.kind.startsWith("stall")),
        { seed },
      );
      const env = { HOME: out, DOCKER_CONFIG: join(out, "docker") };
      let args: string[];
      const target = `${proxy.host}/cli/${operation.replace(" ", "-")}-${seed}:v1`;
      if (operation === "pull tarball") {
        args = ["pull", `${proxy.host}/cli/image:v1`, join(out, "image.tar")];
      } else if (operation === "pull oci") {
        args = ["pull", "--format", "oci", `${proxy.host}/cli/index:v1`, join(out, "layout")];
      } else if (operation === "push") {
        args = ["push", join(work, "source-layout"), target];
      } else {
        args = ["cp", `${proxy.host}/cli/index:v1`, target];
      }
      const result = await hoist(["-v", ...args], { env, timeoutMs: BOUND_MS });
      tally.injectedFaults(proxy.requests().filter((r) => r.fault !== undefined).length);
      proxy.clearRules();
      proxy.clearRequests();
      const finished = result.status === 0;
      if (finished) tally.verified(result.durationMs);
      else {
        const classification = classifyCli(result);
        if (classification.typed) tally.typed(classification.code, result.durationMs);
        else tally.untyped(`${label}: ${classification.reason}`, result.durationMs);
      }
      if (operation === "pull tarball") {
        await checkOutput(tally, label, "tarball", join(out, "image.tar"), finished);
      } else if (operation === "pull oci") {
        await checkOutput(tally, label, "oci", join(out, "layout"), finished);
      } else {
        const written = `docker://${registry.host}/${target.slice(proxy.host.length + 1)}`;
        const want = operation === "push" ? expected.imageDigest : expected.indexDigest;
        const present = await witness.manifestDigest(written).catch(() => undefined);
        if (finished || present !== undefined) {
          const copied = await witness.verifyContent(written).catch((e: Error) => e.message);
          if (copied !== want) tally.corrupt(`${label}: the registry holds ${copied}, not ${want}`);
        }
      }
      // A process that exited by itself cleans up; one killed at the bound cannot.
      const extra = result.status === null ? [] : await leftovers(out);
      if (extra.some((name) => name.includes("partial"))) {
        tally.corrupt(`${label}: left ${extra.join(", ")} beside its output`);
      }
    }
    expectClean(tally);
  });
});

describe("pulls killed mid-way", () => {
  const tally = useTally("durability: hoist pull killed mid-way", { boundMs: BOUND_MS });

  function start(args: string[], env: Record<string, string>): ChildProcess {
    return spawn(process.execPath, [HOIST_CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
      stdio: "ignore",
    });
  }

  it(`${size.runs * 2} pulls killed at seeded moments leave a whole output or none`, async () => {
    const random = seededRandom(0x2545f491);
    // Slow every answer a little so the pull spends its time in flight, where kills land.
    proxy.setRules([{ name: "slow", fault: { kind: "delay", ms: 40 } }]);
    let completeOutputs = 0;
    try {
      for (let run = 0; run < size.runs * 2; run++) {
        const format = run % 2 === 0 ? "tarball" : "oci";
        const out = await tempDir();
        const output = join(out, format === "tarball" ? "image.tar" : "layout");
        const reference = `${proxy.host}/cli/${format === "tarball" ? "image" : "index"}:v1`;
        const started = performance.now();
        const child = start(
          ["pull", ...(format === "oci" ? ["--format", "oci"] : []), reference, output],
          { HOME: out, DOCKER_CONFIG: join(out, "docker") },
        );
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        await Promise.race([
          exited,
          new Promise((r) => setTimeout(r, 150 + Math.floor(random() * 900))),
        ]);
        child.kill("SIGKILL");
        await exited;
        const label = `pull ${format} killed #${run}`;
        tally.verified(performance.now() - started);
        if (await checkOutput(tally, label, format, output, false)) completeOutputs++;
        await mkdir(out, { recursive: true });
        await rm(out, { recursive: true, force: true });
      }
    } finally {
      proxy.clearRules();
    }
    console.log(
      `pulls killed: ${size.runs * 2}, of which left a complete output: ${completeOutputs}`,
    );
    expectClean(tally);
  });
});
