import { pathToFileURL } from "node:url";
import { NameError, parseReference } from "@hoist/name";

/** What the demo prints for one reference. */
export interface ParsedRow {
  input: string;
  kind: string;
  name: string;
  registry: string;
  scheme: string;
  path: string;
  identifier: string;
  scope: string;
}

export function describeReference(input: string): ParsedRow {
  const ref = parseReference(input);
  return {
    input,
    kind: ref.kind,
    name: ref.name,
    registry: ref.registry.host,
    scheme: ref.registry.scheme,
    path: ref.repository.path,
    identifier: ref.identifier,
    scope: ref.scope("pull"),
  };
}

export const DEMO_REFERENCES = [
  "ubuntu",
  "docker.io/library/alpine:3.20",
  "ghcr.io/hoist-dev/hoist:v0.1.0",
  "localhost:5000/team/app@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
  "[::1]:5000/cache/node:20-slim",
  "192.168.1.20:5000/internal/tool:stable",
];

export function runDemo(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
) {
  write("hoist demo: parsing image references\n");
  for (const input of DEMO_REFERENCES) {
    const row = describeReference(input);
    write(`${row.input}`);
    write(`  ${row.kind.padEnd(6)} ${row.name}`);
    write(
      `  registry ${row.registry} over ${row.scheme}, repository ${row.path}, ${row.identifier}`,
    );
    write(`  token scope ${row.scope}`);
  }
  try {
    parseReference("Ubuntu:latest");
  } catch (error) {
    if (!NameError.is(error)) throw error;
    write(`\nbad input is a typed error: ${error.code}: ${error.message}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runDemo();
