import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it, vi } from "vitest";
import { TARBALL_ERROR_CODES } from "./index.js";

const readme = () => readFile(new URL("../README.md", import.meta.url), "utf8");

// Runs the README's example exactly as written: its block is copied to a temporary module
// whose import of "@hoist/tarball" points at this package's source. The module is written inside
// the package so that its other imports ("@hoist/oci") resolve as they would for a user.
it("README example", async () => {
  const block = /## Example\n\n```ts\n([\s\S]*?)```/.exec(await readme())?.[1];
  expect(block).toBeDefined();
  const source = fileURLToPath(new URL("./index.ts", import.meta.url));
  const code = (block as string).replace('from "@hoist/tarball"', `from ${JSON.stringify(source)}`);
  expect(code).not.toBe(block);
  const directory = await mkdtemp(fileURLToPath(new URL("../.readme-example-", import.meta.url)));
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
  expect(lines).toEqual([
    '["example.com/app:1.0","example.com/app:latest"]',
    "true",
    '["etc/motd","etc"]',
    "HOIST_TARBALL_UNSAFE_PATH",
  ]);
});

it("README documents every error code", async () => {
  const text = await readme();
  for (const code of TARBALL_ERROR_CODES) {
    expect(text).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
  }
});
