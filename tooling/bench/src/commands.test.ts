import { describe, expect, it } from "vitest";
import { manifestPutConfig } from "./ceiling.js";
import type { PreparedDataset } from "./datasets.js";
import { hoistCommand } from "./hoist.js";
import type { ImageLocation } from "./invocation.js";
import { MEDIA_TYPES } from "./layout-writer.js";
import { parseTimeOutput } from "./measure.js";
import { NODE_CLIENT_SCENARIOS, nodeClientPlan } from "./node-floor.js";
import { skopeoCommand } from "./skopeo.js";
import { tarFileHeader, tarPadding } from "./tar-entry.js";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const registry = { host: "127.0.0.1:5000", url: "http://127.0.0.1:5000" };
const destination: ImageLocation = { registry, repo: "push/d", tag: "latest" };
const source: ImageLocation = {
  registry: { host: "127.0.0.1:5001", url: "http://127.0.0.1:5001" },
  repo: "source/d",
  tag: "v1",
};

const image: PreparedDataset = {
  id: "A",
  title: "",
  layoutDir: "/data/A",
  root: { mediaType: MEDIA_TYPES.manifest, digest: digest("1"), size: 400 },
  manifests: [{ mediaType: MEDIA_TYPES.manifest, digest: digest("1"), size: 400 }],
  configs: [],
  layers: [],
  bytes: 400,
};
const index: PreparedDataset = {
  ...image,
  id: "D",
  layoutDir: "/data/D",
  root: { mediaType: MEDIA_TYPES.index, digest: digest("9"), size: 300 },
  manifests: [
    { mediaType: MEDIA_TYPES.manifest, digest: digest("1"), size: 400 },
    { mediaType: MEDIA_TYPES.manifest, digest: digest("2"), size: 400 },
    { mediaType: MEDIA_TYPES.index, digest: digest("9"), size: 300 },
  ],
};

describe("skopeoCommand", () => {
  it("copies every platform of an index and only the image otherwise", () => {
    expect(skopeoCommand({ scenario: "push-cold", dataset: index, destination }).args).toEqual([
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      "--all",
      "oci:/data/D",
      "docker://127.0.0.1:5000/push/d:latest",
    ]);
    expect(
      skopeoCommand({ scenario: "pull", dataset: image, source: destination, outDir: "/out" }).args,
    ).toEqual([
      "copy",
      "--quiet",
      "--src-tls-verify=false",
      "docker://127.0.0.1:5000/push/d:latest",
      "oci:/out:latest",
    ]);
  });

  it("lists tags and prints a digest", () => {
    expect(skopeoCommand({ scenario: "ls", registry, repo: "many/tags" }).args).toEqual([
      "list-tags",
      "--tls-verify=false",
      "docker://127.0.0.1:5000/many/tags",
    ]);
    expect(skopeoCommand({ scenario: "digest", source: destination }).args).toContain(
      "{{.Digest}}",
    );
  });
});

describe("hoistCommand", () => {
  it("runs the CLI bundle with crane's arguments and --insecure", () => {
    const copy = hoistCommand(
      {
        scenario: "copy",
        dataset: image,
        source: destination,
        destination: { ...destination, repo: "copy/a" },
      },
      "/repo/hoist.js",
    );
    expect(copy.command).toBe(process.execPath);
    expect(copy.args).toEqual([
      "/repo/hoist.js",
      "copy",
      "127.0.0.1:5000/push/d:latest",
      "127.0.0.1:5000/copy/a:latest",
      "--insecure",
    ]);
    expect(hoistCommand({ scenario: "version" }, "/repo/hoist.js").args).toEqual([
      "/repo/hoist.js",
      "version",
    ]);
    expect(
      hoistCommand(
        { scenario: "pull", dataset: image, source: destination, outDir: "/out" },
        "/h.js",
      ).args,
    ).toEqual([
      "/h.js",
      "pull",
      "--format",
      "oci",
      "127.0.0.1:5000/push/d:latest",
      "/out",
      "--insecure",
    ]);
  });
});

describe("the ceiling's manifest PUTs", () => {
  it("put the children by digest first and the index under the tag last", () => {
    const urls = manifestPutConfig(index, destination)
      .split("\n")
      .filter((line) => line.startsWith("url = "));
    expect(urls).toEqual([
      `url = "http://127.0.0.1:5000/v2/push/d/manifests/${digest("1")}"`,
      `url = "http://127.0.0.1:5000/v2/push/d/manifests/${digest("2")}"`,
      `url = "http://127.0.0.1:5000/v2/push/d/manifests/latest"`,
    ]);
  });
});

describe("parseTimeOutput", () => {
  it("reads peak RSS, CPU, the exit status, page faults and context switches", () => {
    expect(parseTimeOutput("hoist-bench 45120 0.31 0.12 0 11042 310 57\n")).toEqual({
      maxRssKiB: 45120,
      cpuMs: 430,
      systemMs: 120,
      exitCode: 0,
      minorFaults: 11042,
      voluntarySwitches: 310,
      involuntarySwitches: 57,
    });
  });

  it("refuses a line from another format", () => {
    expect(() => parseTimeOutput("hoist-bench 45120 0.31 0.12 0\n")).toThrow(
      /cannot read GNU time's output/,
    );
  });

  it("skips GNU time's note about a failed command", () => {
    expect(
      parseTimeOutput(
        "Command exited with non-zero status 3\nhoist-bench 2000 0.00 0.01 3 900 2 1\n",
      ),
    ).toMatchObject({
      exitCode: 3,
    });
  });

  it("says what it could not read", () => {
    expect(() => parseTimeOutput("garbage")).toThrow(/cannot read GNU time's output: "garbage"/);
  });
});

describe("tarFileHeader", () => {
  it("writes a ustar header whose checksum readers accept", () => {
    const header = tarFileHeader("data.bin", 1536 + 7);
    expect(header).toHaveLength(512);
    expect(header.toString("latin1", 257, 262)).toBe("ustar");
    expect(header.toString("latin1", 124, 135)).toBe((1543).toString(8).padStart(11, "0"));
    const stored = Number.parseInt(header.toString("latin1", 148, 154), 8);
    const blanked = Buffer.from(header);
    blanked.fill(" ", 148, 156);
    expect(stored).toBe(blanked.reduce((sum, byte) => sum + byte, 0));
  });

  it("pads data to whole blocks", () => {
    expect(tarPadding(512)).toHaveLength(0);
    expect(tarPadding(513)).toHaveLength(511);
  });

  it("refuses names ustar cannot hold", () => {
    expect(() => tarFileHeader("x".repeat(101), 1)).toThrow(RangeError);
  });
});

describe("hoistCommand under the profiler", () => {
  it("writes one profile directory per scenario and dataset", () => {
    const command = hoistCommand({ scenario: "push-cold", dataset: image, destination }, "/h.js", {
      cpuProfileDir: "/prof",
    });
    expect(command.args.slice(0, 3)).toEqual([
      "--cpu-prof",
      "--cpu-prof-dir=/prof/push-cold-A",
      "/h.js",
    ]);
  });
});

describe("nodeClientPlan", () => {
  const layer = { mediaType: MEDIA_TYPES.layer, digest: digest("3"), size: 1000 };
  const config = { mediaType: MEDIA_TYPES.config, digest: digest("4"), size: 200 };
  const withBlobs: PreparedDataset = { ...index, configs: [config], layers: [layer] };

  it("pulls the manifests by digest before the blobs, into the run's layout", () => {
    const plan = nodeClientPlan({
      scenario: "pull",
      dataset: withBlobs,
      source: destination,
      outDir: "/out",
    });
    expect(plan).toMatchObject({ mode: "pull", url: registry.url, repo: "push/d", outDir: "/out" });
    if (plan.mode !== "pull") throw new Error("expected a pull plan");
    expect(plan.blobs.map((blob) => [blob.digest, blob.kind])).toEqual([
      [digest("1"), "manifest"],
      [digest("2"), "manifest"],
      [digest("9"), "manifest"],
      [digest("4"), "blob"],
      [digest("3"), "blob"],
    ]);
    expect(JSON.parse(plan.index).manifests).toEqual([
      { ...index.root, annotations: { "org.opencontainers.image.ref.name": "latest" } },
    ]);
  });

  it("pushes the blobs, then the manifests with the tag on the root alone", () => {
    const plan = nodeClientPlan({ scenario: "push-cold", dataset: withBlobs, destination });
    if (plan.mode !== "push") throw new Error("expected a push plan");
    expect(plan.layoutDir).toBe("/data/D");
    expect(plan.blobs.map((blob) => blob.digest)).toEqual([digest("4"), digest("3")]);
    expect(plan.manifests.map((manifest) => manifest.reference)).toEqual([
      digest("1"),
      digest("2"),
      "latest",
    ]);
  });

  it("copies the blobs from source to destination, then the manifests with the tag on the root alone", () => {
    const plan = nodeClientPlan({ scenario: "copy", dataset: withBlobs, source, destination });
    if (plan.mode !== "copy") throw new Error("expected a copy plan");
    expect(plan.source).toEqual({ url: source.registry.url, repo: source.repo });
    expect(plan.destination).toEqual({ url: destination.registry.url, repo: destination.repo });
    expect(plan.blobs.map((blob) => blob.digest)).toEqual([digest("4"), digest("3")]);
    expect(plan.manifests.map((manifest) => manifest.reference)).toEqual([
      digest("1"),
      digest("2"),
      "latest",
    ]);
  });

  it("takes part in pull, push-cold and copy only", () => {
    expect([...NODE_CLIENT_SCENARIOS].sort()).toEqual(["copy", "pull", "push-cold"]);
    expect(() => nodeClientPlan({ scenario: "version" })).toThrow(/does not take part/);
  });
});
