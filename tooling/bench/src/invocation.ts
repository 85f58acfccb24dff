import type { PreparedDataset } from "./datasets.js";

export const SCENARIO_IDS = [
  "push-cold",
  "push-warm",
  "mount",
  "pull",
  "copy",
  "digest",
  "ls",
  "version",
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export const TOOL_IDS = ["skopeo", "hoist", "ceiling", "node", "undici", "reuse"] as const;
export type ToolId = (typeof TOOL_IDS)[number];

export interface RegistryAddress {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT" */
  url: string;
}

export interface ImageLocation {
  registry: RegistryAddress;
  repo: string;
  tag: string;
}

export function imageReference(location: ImageLocation): string {
  return `${location.registry.host}/${location.repo}:${location.tag}`;
}

/** One timed thing a tool is asked to do, with everything it needs to know. */
export type Invocation =
  | {
      scenario: "push-cold" | "push-warm";
      dataset: PreparedDataset;
      destination: ImageLocation;
    }
  | { scenario: "pull"; dataset: PreparedDataset; source: ImageLocation; outDir: string }
  | {
      scenario: "copy" | "mount";
      dataset: PreparedDataset;
      source: ImageLocation;
      destination: ImageLocation;
    }
  | { scenario: "digest"; source: ImageLocation }
  | { scenario: "ls"; registry: RegistryAddress; repo: string }
  | { scenario: "version" };
