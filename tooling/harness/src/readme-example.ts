import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { vi } from "vitest";

export interface ReadmeExampleOptions {
  /** The package's README.md; its first ```ts block after "## Example" is run. */
  readmeUrl: URL;
  /** The name the example imports the package by ("@hoist/oci"). */
  packageName: string;
  /** The package's source entry (`src/index.ts`), imported instead of the published name. */
  sourceUrl: URL;
  /**
   * Where the temporary module is written; default the README's folder, so that the example's
   * other imports ("@hoist/oci" from another package) resolve as they would for a user.
   */
  directoryUrl?: URL;
}

export interface ReadmeExampleRun {
  /** What the example printed with console.log, one entry a call; non-strings as JSON. */
  lines: string[];
  /** The example's module namespace, for examples that export what they made. */
  module: Record<string, unknown>;
}

const EXAMPLE_BLOCK = /## Example\n\n```ts\n([\s\S]*?)```/;

/**
 * Runs a README's example exactly as written but for where it finds the package: the block is
 * copied to a temporary module whose imports of `packageName` point at the package's source,
 * imported once, and removed. Throws when the README has no such block or the block does not
 * import the package, so a README that drifts fails its test.
 */
export async function runReadmeExample(options: ReadmeExampleOptions): Promise<ReadmeExampleRun> {
  const readme = await readFile(options.readmeUrl, "utf8");
  const block = EXAMPLE_BLOCK.exec(readme)?.[1];
  if (block === undefined) {
    throw new Error(
      `${fileURLToPath(options.readmeUrl)} has no \`\`\`ts block right after "## Example"; add one`,
    );
  }
  const from = `from ${JSON.stringify(options.packageName)}`;
  if (!block.includes(from)) {
    throw new Error(
      `the README example in ${fileURLToPath(options.readmeUrl)} does not import ${JSON.stringify(options.packageName)}; import the package by its published name`,
    );
  }
  const code = block.replaceAll(from, `from ${JSON.stringify(fileURLToPath(options.sourceUrl))}`);
  const directory = await mkdtemp(
    join(
      fileURLToPath(options.directoryUrl ?? new URL(".", options.readmeUrl)),
      ".readme-example-",
    ),
  );
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...values: unknown[]) => {
    lines.push(
      values.map((value) => (typeof value === "string" ? value : JSON.stringify(value))).join(" "),
    );
  });
  try {
    const file = join(directory, "example.ts");
    await writeFile(file, code);
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    return { lines, module };
  } finally {
    log.mockRestore();
    await rm(directory, { recursive: true, force: true });
  }
}
