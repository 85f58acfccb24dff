import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, it, vi } from "vitest";
import { OCI_ERROR_CODES } from "./index.js";

const readme = () => readFile(new URL("../README.md", import.meta.url), "utf8");

// Runs the README's example exactly as written: its block is copied to a temporary module
// whose import of "@hoist/oci" points at this package's source.
it("README example", async () => {
  const block = /## Example\n\n```ts\n([\s\S]*?)```/.exec(await readme())?.[1];
  expect(block).toBeDefined();
  const source = fileURLToPath(new URL("./index.ts", import.meta.url));
  const code = (block as string).replace('from "@hoist/oci"', `from ${JSON.stringify(source)}`);
  expect(code).not.toBe(block);
  const directory = await mkdtemp(join(tmpdir(), "hoist-oci-readme-"));
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
    expect.stringMatching(/^sha256:[a-f0-9]{64}$/),
    '["/app"]',
    'HOIST_OCI_INVALID_DOCUMENT manifest: config.digest: invalid digest "sha256:../../etc/passwd": expected exactly 64 lowercase hex characters after "sha256:"',
    "HOIST_OCI_SIZE_MISMATCH",
    '{"architecture":"arm","os":"linux","variant":"v7"}',
    "true",
  ]);
});

it("README documents every error code", async () => {
  const text = await readme();
  for (const code of OCI_ERROR_CODES) {
    expect(text).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
  }
});
