import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";
import { runReadmeExample } from "./readme-example.js";

// The name the examples import; written out only through this constant, so that no line of this
// file reads like an import of an undeclared package.
const NAME = "@example/pkg";
const importTwice = `import { twice } from ${JSON.stringify(NAME)};`;

let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "hoist-readme-helper-"));
  await writeFile(
    join(folder, "source.ts"),
    "export const twice = (n: number): number => n * 2;\n",
  );
});
afterEach(() => rm(folder, { recursive: true, force: true }));

async function run(readme: string) {
  await writeFile(join(folder, "README.md"), readme);
  return runReadmeExample({
    readmeUrl: pathToFileURL(join(folder, "README.md")),
    packageName: NAME,
    sourceUrl: pathToFileURL(join(folder, "source.ts")),
  });
}

it("runs the block after ## Example against the source, capturing console.log", async () => {
  const original = console.log;
  const { lines, module } = await run(
    [
      "# pkg",
      "",
      "## Example",
      "",
      "```ts",
      importTwice,
      "",
      'console.log("twice", twice(21));',
      "console.log({ a: [1] });",
      "export const made = twice(2);",
      "```",
      "",
      "```ts",
      'console.log("not this block");',
      "```",
      "",
    ].join("\n"),
  );
  expect(lines).toEqual(["twice 42", '{"a":[1]}']);
  expect(module.made).toBe(4);
  // The temporary module is gone and console.log is itself again.
  expect((await readdir(folder)).sort()).toEqual(["README.md", "source.ts"]);
  expect(console.log).toBe(original);
});

it("refuses a README without an example block", async () => {
  await expect(run("# pkg\n\n## Usage\n\n```ts\nconsole.log(1);\n```\n")).rejects.toThrow(
    /has no ```ts block right after "## Example"/,
  );
});

it("refuses an example that does not import the package by name", async () => {
  await expect(
    run('## Example\n\n```ts\nimport { twice } from "./source.js";\n```\n'),
  ).rejects.toThrow(`does not import ${JSON.stringify(NAME)}`);
});

it("removes the module and restores console.log when the example throws", async () => {
  await expect(
    run(
      `## Example\n\n\`\`\`ts\n${importTwice}\nthrow new Error(["broken", twice(1)].join(" "));\n\`\`\`\n`,
    ),
  ).rejects.toThrow("broken 2");
  expect((await readdir(folder)).sort()).toEqual(["README.md", "source.ts"]);
});
