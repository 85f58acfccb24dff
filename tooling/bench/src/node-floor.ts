import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blobsOf, type PreparedDataset } from "./datasets.js";
import type { Invocation, ScenarioId } from "./invocation.js";
import type { Command } from "./measure.js";

/** The scenarios the minimal clients (the node, undici and reuse rows) take part in. */
export const NODE_CLIENT_SCENARIOS: ReadonlySet<ScenarioId> = new Set([
  "pull",
  "push-cold",
  "copy",
]);

export interface NodeClientBlob {
  digest: string;
  size: number;
  mediaType: string;
  kind: "manifest" | "blob";
}

export type NodeClientPlan =
  | {
      mode: "pull";
      url: string;
      repo: string;
      /** Every manifest, then every config and layer. */
      blobs: NodeClientBlob[];
      outDir: string;
      /** The layout's index.json. */
      index: string;
    }
  | {
      mode: "push";
      url: string;
      repo: string;
      layoutDir: string;
      blobs: NodeClientBlob[];
      /** In PUT order: children first, then the tagged root. */
      manifests: Array<NodeClientBlob & { reference: string }>;
    }
  | {
      mode: "copy";
      source: { url: string; repo: string };
      destination: { url: string; repo: string };
      blobs: NodeClientBlob[];
      /** In PUT order: children first, then the tagged root. */
      manifests: Array<NodeClientBlob & { reference: string }>;
    };

function blobs(dataset: PreparedDataset): NodeClientBlob[] {
  return blobsOf(dataset).map(({ digest, size, mediaType }) => ({
    digest,
    size,
    mediaType,
    kind: "blob",
  }));
}

function manifests(dataset: PreparedDataset): NodeClientBlob[] {
  return dataset.manifests.map(({ digest, size, mediaType }) => ({
    digest,
    size,
    mediaType,
    kind: "manifest",
  }));
}

/** The manifests in PUT order, the root under the destination's tag and the rest by digest. */
function manifestsFor(dataset: PreparedDataset, tag: string) {
  return manifests(dataset).map((manifest) => ({
    ...manifest,
    reference: manifest.digest === dataset.root.digest ? tag : manifest.digest,
  }));
}

/** What the minimal Node client is to do for one invocation of pull, push-cold or copy. */
export function nodeClientPlan(invocation: Invocation): NodeClientPlan {
  switch (invocation.scenario) {
    case "pull": {
      const { dataset, source, outDir } = invocation;
      return {
        mode: "pull",
        url: source.registry.url,
        repo: source.repo,
        blobs: [...manifests(dataset), ...blobs(dataset)],
        outDir,
        index: JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: [
            {
              ...dataset.root,
              annotations: { "org.opencontainers.image.ref.name": source.tag },
            },
          ],
        }),
      };
    }
    case "push-cold": {
      const { dataset, destination } = invocation;
      return {
        mode: "push",
        url: destination.registry.url,
        repo: destination.repo,
        layoutDir: dataset.layoutDir,
        blobs: blobs(dataset),
        manifests: manifestsFor(dataset, destination.tag),
      };
    }
    case "copy": {
      const { dataset, source, destination } = invocation;
      return {
        mode: "copy",
        source: { url: source.registry.url, repo: source.repo },
        destination: { url: destination.registry.url, repo: destination.repo },
        blobs: blobs(dataset),
        manifests: manifestsFor(dataset, destination.tag),
      };
    }
    default:
      throw new Error(`the minimal Node client does not take part in ${invocation.scenario}`);
  }
}

/** Writes the plan into `scratchDir` and returns the command that runs `client` on it. */
async function minimalClientCommand(
  client: "node-client.js" | "undici-client.js" | "reuse-client.js",
  invocation: Invocation,
  scratchDir: string,
): Promise<Command> {
  await writeFile(join(scratchDir, "plan.json"), JSON.stringify(nodeClientPlan(invocation)));
  return {
    command: process.execPath,
    args: [fileURLToPath(new URL(client, import.meta.url)), "plan.json"],
    cwd: scratchDir,
  };
}

/** The node row's command: the minimal client on node:http. */
export function nodeClientCommand(invocation: Invocation, scratchDir: string): Promise<Command> {
  return minimalClientCommand("node-client.js", invocation, scratchDir);
}

/** The undici row's command: the same client on undici. */
export function undiciClientCommand(invocation: Invocation, scratchDir: string): Promise<Command> {
  return minimalClientCommand("undici-client.js", invocation, scratchDir);
}

/** The reuse row's command: the same work on raw sockets that read into reused buffers. */
export function reuseClientCommand(invocation: Invocation, scratchDir: string): Promise<Command> {
  return minimalClientCommand("reuse-client.js", invocation, scratchDir);
}
