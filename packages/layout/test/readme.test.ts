import { readFile } from "node:fs/promises";
import { runReadmeExample } from "@hoist/harness";
import { expect, it } from "vitest";
import { LAYOUT_ERROR_CODES } from "../src/index.js";

const readme = () => readFile(new URL("../README.md", import.meta.url), "utf8");

// The README's example, run as written but against this package's source.
it("README example", async () => {
  const { lines } = await runReadmeExample({
    readmeUrl: new URL("../README.md", import.meta.url),
    packageName: "@hoist/layout",
    sourceUrl: new URL("../src/index.ts", import.meta.url),
  });
  expect(lines).toEqual(["true", "true", "arm64", "1", "4", "HOIST_LAYOUT_INVALID_DIGEST"]);
});

it("README documents every error code", async () => {
  const text = await readme();
  for (const code of LAYOUT_ERROR_CODES) {
    expect(text).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
  }
});
