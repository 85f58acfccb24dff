import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it, vi } from "vitest";
import { LAYOUT_ERROR_CODES } from "../src/index.js";

const readme = () => readFile(new URL("../README.md", import.meta.url), "utf8");

// Runs the README's example as written: the block is copied to a temporary module next to this
// file (so "@hoist/oci" resolves as it does for a user) whose "@hoist/layout" import points at
// this package's source.
it("README example", async () => {
  const block = /## Example\n\n```ts\n([\s\S]*?)```/.exec(await readme())?.[1];
  expect(block).toBeDefined();
  const source = fileURLToPath(new URL("../src/index.ts", import.meta.url));
  const code = (block as string).replace('from "@hoist/layout"', `from ${JSON.stringify(source)}`);
  expect(code).not.toBe(block);
  const directory = await mkdtemp(fileURLToPath(new URL("./.readme-", import.meta.url)));
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...values: unknown[]) => {
    lines.push(
      values.map((value) => (typeof value === "string" ? value : JSON.stringify(value))).join(" "),
    );
  });
  try {
    const file = join(directory, "example.ts");
    await writeFile(file, code);
    await import(pathToFileURL(file).href);
  } finally {
    log.mockRestore();
    await rm(directory, { recursive: true, force: true });
  }
  expect(lines).toEqual(["true", "true", "arm64", "1", "4", "HOIST_LAYOUT_INVALID_DIGEST"]);
});

it("README documents every error code", async () => {
  const text = await readme();
  for (const code of LAYOUT_ERROR_CODES) {
    expect(text).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
  }
});
