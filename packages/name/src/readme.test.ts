import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { NAME_ERROR_CODES, NameError, parseReference, Repository } from "./index.js";

it("README example", () => {
  const ref = parseReference("ubuntu:24.04");
  expect(ref.kind).toBe("tag");
  expect(ref.name).toBe("index.docker.io/library/ubuntu:24.04");
  expect(ref.toString()).toBe("ubuntu:24.04");
  expect(ref.registry.host).toBe("index.docker.io");
  expect(ref.registry.scheme).toBe("https");
  expect(ref.repository.path).toBe("library/ubuntu");
  expect(ref.scope("pull")).toBe("repository:library/ubuntu:pull");

  const pinned = parseReference(
    "localhost:5000/app:v1@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
  );
  expect(pinned.kind).toBe("digest");
  expect(pinned.name).toBe(
    "localhost:5000/app@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",
  );
  expect(pinned.scheme).toBe("http");

  const repo = Repository.parse("ghcr.io/acme/tools");
  expect(repo.tag("edge").name).toBe("ghcr.io/acme/tools:edge");

  let caught: unknown;
  try {
    parseReference("ghcr.io/acme/Tools:latest");
  } catch (error) {
    caught = error;
  }
  expect(NameError.is(caught)).toBe(true);
  const error = caught as NameError;
  expect(error.code).toBe("HOIST_NAME_INVALID_REPOSITORY");
  expect(error.message).toBe(
    'Invalid reference "ghcr.io/acme/Tools:latest": the repository name "acme/Tools" ' +
      'contains "T"; it may only contain lowercase letters, digits and "_", "-", ".", "/"; ' +
      "repository names are lowercase.",
  );

  // The README shows the same calls; fail if it drifts from what is tested here.
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const line of [
    'const ref = parseReference("ubuntu:24.04");',
    '"localhost:5000/app:v1@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b",',
    'const repo = Repository.parse("ghcr.io/acme/tools");',
    'parseReference("ghcr.io/acme/Tools:latest");',
  ]) {
    expect(readme).toContain(line);
  }
});

it("README documents every error code", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const code of NAME_ERROR_CODES) {
    // A row of the codes table (the formatter may pad the cells).
    expect(readme).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
  }
});
