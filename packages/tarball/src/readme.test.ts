import { readFile } from "node:fs/promises";
import { runReadmeExample } from "@hoist/harness";
import { expect, it } from "vitest";
import { TARBALL_ERROR_CODES } from "./index.js";

const readme = () => readFile(new URL("../README.md", import.meta.url), "utf8");

// The README's example, run as written but against this package's source.
it("README example", async () => {
  const { lines } = await runReadmeExample({
    readmeUrl: new URL("../README.md", import.meta.url),
    packageName: "@hoist/tarball",
    sourceUrl: new URL("./index.ts", import.meta.url),
  });
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
