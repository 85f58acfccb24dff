import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { useTempDir } from "./helpers.js";

const exec = promisify(execFile);
const app = join(dirname(fileURLToPath(import.meta.url)), "..");
const temp = useTempDir();

it("README example", async () => {
  const readme = await readFile(join(app, "README.md"), "utf8");
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toContain('from "@hoist/cli"');
  // The README's code, unchanged but for where it finds the package: the built bundle.
  const script = (example as string).replace(
    '"@hoist/cli"',
    JSON.stringify(pathToFileURL(join(app, "dist/index.js")).href),
  );
  const file = join(temp(), "readme-example.mjs");
  await writeFile(file, script);
  const { stdout } = await exec(process.execPath, [file]);
  expect(stdout).toBe('0 "0.1.0\\n"\n');
});
