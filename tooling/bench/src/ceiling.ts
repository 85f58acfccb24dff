import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blobsOf, type PreparedDataset } from "./datasets.js";
import type { ImageLocation, Invocation } from "./invocation.js";
import { blobPath, type Descriptor } from "./layout-writer.js";
import type { Command } from "./measure.js";

// The ceiling is the same registry work done with no client logic at all: curl moving the
// same blobs in parallel (GET for pulls; POST then PUT for pushes), then the manifests; for
// streamed copies a minimal Node client (copy-ceiling-client.ts). Nothing is hashed or checked on the client side, so
// no real client can beat it; a row's ÷ ceiling says how much of the machine it leaves unused.

const PARALLEL = ["--parallel", "--parallel-immediate", "--parallel-max", "16"];
const CURL = "curl --silent --show-error --fail";

/** A string as a double-quoted value in a curl config file. */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** A string as one single-quoted sh word. */
export function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function blobUrl(location: ImageLocation, digest: string): string {
  return `${location.registry.url}/v2/${location.repo}/blobs/${digest}`;
}

/** A curl config that PUTs the manifests one after another: children first, the tag last. */
export function manifestPutConfig(dataset: PreparedDataset, destination: ImageLocation): string {
  return dataset.manifests
    .map((manifest) => {
      const reference = manifest.digest === dataset.root.digest ? destination.tag : manifest.digest;
      return [
        `url = ${quoted(`${destination.registry.url}/v2/${destination.repo}/manifests/${reference}`)}`,
        `request = "PUT"`,
        `header = ${quoted(`Content-Type: ${manifest.mediaType}`)}`,
        `data-binary = ${quoted(`@${blobPath(dataset.layoutDir, manifest.digest)}`)}`,
        `output = "/dev/null"`,
      ].join("\n");
    })
    .join("\nnext\n");
}

/** POSTs one upload session per blob; the Location of each is printed on its own line. */
function uploadSessionsConfig(count: number, destination: ImageLocation): string {
  const lines = [`request = "POST"`, `write-out = "%header{location}\\n"`];
  for (let i = 0; i < count; i++)
    lines.push(
      `url = ${quoted(`${destination.registry.url}/v2/${destination.repo}/blobs/uploads/`)}`,
      `output = "/dev/null"`,
    );
  return lines.join("\n");
}

/**
 * sh that turns each line of locations.txt into an absolute upload URL ending in
 * `digest=`, paired with the matching line of blobs.txt ("DIGEST PATH-OR-URL"). Any upload
 * session serves any blob of the repository, so the order the POSTs finished in is fine.
 */
function pairLocations(registryUrl: string, emit: string): string {
  return [
    "exec 3< blobs.txt",
    "while read -r location; do",
    "  read -r digest source <&3",
    `  case "$location" in http*) ;; *) location=${shellWord(registryUrl)}"$location" ;; esac`,
    `  case "$location" in *\\?*) url="$location&digest=$digest" ;; *) url="$location?digest=$digest" ;; esac`,
    `  ${emit}`,
    "done < locations.txt",
  ].join("\n");
}

function blobList(dataset: PreparedDataset, source: (blob: Descriptor) => string): string {
  return `${blobsOf(dataset)
    .map((blob) => `${blob.digest} ${source(blob)}`)
    .join("\n")}\n`;
}

/** Files to write into the run's scratch directory, and a script or command to run there. */
type CeilingScript = { files: Record<string, string> } & (
  | { script: string }
  | { command: Command }
);

function pushScript(dataset: PreparedDataset, destination: ImageLocation): CeilingScript {
  const blobs = blobsOf(dataset);
  return {
    files: {
      "post.cfg": uploadSessionsConfig(blobs.length, destination),
      "blobs.txt": blobList(dataset, (blob) => blobPath(dataset.layoutDir, blob.digest)),
      "manifests.cfg": manifestPutConfig(dataset, destination),
    },
    script: [
      `${CURL} ${PARALLEL.join(" ")} --config post.cfg > locations.txt`,
      ": > put.cfg",
      pairLocations(
        destination.registry.url,
        `printf 'url = "%s"\\nupload-file = "%s"\\noutput = "/dev/null"\\n' "$url" "$source" >> put.cfg`,
      ),
      `${CURL} ${PARALLEL.join(" ")} --header 'Content-Type: application/octet-stream' --config put.cfg`,
      `${CURL} --config manifests.cfg`,
    ].join("\n"),
  };
}

function headScript(dataset: PreparedDataset, destination: ImageLocation): CeilingScript {
  const lines = [`head`];
  for (const blob of blobsOf(dataset))
    lines.push(`url = ${quoted(blobUrl(destination, blob.digest))}`, `output = "/dev/null"`);
  return {
    files: {
      "head.cfg": lines.join("\n"),
      "manifests.cfg": manifestPutConfig(dataset, destination),
    },
    script: [
      `${CURL} ${PARALLEL.join(" ")} --config head.cfg`,
      `${CURL} --config manifests.cfg`,
    ].join("\n"),
  };
}

function mountScript(
  dataset: PreparedDataset,
  source: ImageLocation,
  destination: ImageLocation,
): CeilingScript {
  const lines = [`request = "POST"`];
  for (const blob of blobsOf(dataset)) {
    const query = new URLSearchParams({ mount: blob.digest, from: source.repo });
    lines.push(
      `url = ${quoted(`${destination.registry.url}/v2/${destination.repo}/blobs/uploads/?${query}`)}`,
      `output = "/dev/null"`,
    );
  }
  return {
    files: {
      "mount.cfg": lines.join("\n"),
      "manifests.cfg": manifestPutConfig(dataset, destination),
    },
    script: [
      `${CURL} ${PARALLEL.join(" ")} --config mount.cfg`,
      `${CURL} --config manifests.cfg`,
    ].join("\n"),
  };
}

function pullScript(
  dataset: PreparedDataset,
  source: ImageLocation,
  outDir: string,
): CeilingScript {
  const dir = join(outDir, "blobs", "sha256");
  const lines = [
    `header = ${quoted(`Accept: ${[...new Set(dataset.manifests.map((m) => m.mediaType))].join(", ")}`)}`,
  ];
  for (const manifest of dataset.manifests)
    lines.push(
      `url = ${quoted(`${source.registry.url}/v2/${source.repo}/manifests/${manifest.digest}`)}`,
      `output = ${quoted(join(dir, manifest.digest.slice("sha256:".length)))}`,
    );
  for (const blob of blobsOf(dataset))
    lines.push(
      `url = ${quoted(blobUrl(source, blob.digest))}`,
      `output = ${quoted(join(dir, blob.digest.slice("sha256:".length)))}`,
    );
  return {
    files: { "get.cfg": lines.join("\n") },
    script: [`mkdir -p ${shellWord(dir)}`, `${CURL} ${PARALLEL.join(" ")} --config get.cfg`].join(
      "\n",
    ),
  };
}

/** The streamed copy's ceiling runs the minimal Node client beside this module. */
function copyPlan(dataset: PreparedDataset, source: ImageLocation, destination: ImageLocation) {
  return {
    source: { url: source.registry.url, repo: source.repo },
    destination: { url: destination.registry.url, repo: destination.repo },
    blobs: blobsOf(dataset).map((blob) => ({ digest: blob.digest, size: blob.size })),
    manifests: dataset.manifests.map((manifest) => ({
      path: blobPath(dataset.layoutDir, manifest.digest),
      mediaType: manifest.mediaType,
      reference: manifest.digest === dataset.root.digest ? destination.tag : manifest.digest,
    })),
  };
}

const MANIFEST_ACCEPT =
  "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, " +
  "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

function ceilingPlan(invocation: Invocation, scratchDir: string): CeilingScript | Command {
  switch (invocation.scenario) {
    case "push-cold":
      return pushScript(invocation.dataset, invocation.destination);
    case "push-warm":
      return headScript(invocation.dataset, invocation.destination);
    case "mount":
      return mountScript(invocation.dataset, invocation.source, invocation.destination);
    case "pull":
      return pullScript(invocation.dataset, invocation.source, invocation.outDir);
    case "copy":
      return {
        files: {
          "plan.json": JSON.stringify(
            copyPlan(invocation.dataset, invocation.source, invocation.destination),
          ),
        },
        command: {
          command: process.execPath,
          args: [fileURLToPath(new URL("copy-ceiling-client.js", import.meta.url)), "plan.json"],
          cwd: scratchDir,
        },
      };
    case "digest": {
      const { registry, repo, tag } = invocation.source;
      return {
        command: "curl",
        args: [
          "--silent",
          "--show-error",
          "--fail",
          "--head",
          "--header",
          `Accept: ${MANIFEST_ACCEPT}`,
          `${registry.url}/v2/${repo}/manifests/${tag}`,
        ],
        cwd: scratchDir,
      };
    }
    case "ls":
      return {
        command: "curl",
        args: [
          "--silent",
          "--show-error",
          "--fail",
          "--output",
          "/dev/null",
          `${invocation.registry.url}/v2/${invocation.repo}/tags/list`,
        ],
        cwd: scratchDir,
      };
    case "version":
      // The floor of any Node.js command line: Node starting and exiting.
      return { command: process.execPath, args: ["-e", "0"], cwd: scratchDir };
  }
}

/** Writes the ceiling's files into `scratchDir` and returns the command that runs it. */
export async function ceilingCommand(invocation: Invocation, scratchDir: string): Promise<Command> {
  const built = ceilingPlan(invocation, scratchDir);
  if (!("files" in built)) return built;
  for (const [name, content] of Object.entries(built.files))
    await writeFile(join(scratchDir, name), content);
  if ("command" in built) return built.command;
  await writeFile(join(scratchDir, "ceiling.sh"), `set -eu\n${built.script}\n`);
  return { command: "sh", args: ["ceiling.sh"], cwd: scratchDir };
}
