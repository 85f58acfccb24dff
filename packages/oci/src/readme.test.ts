import { readFile } from "node:fs/promises";
import { runReadmeExample } from "@hoist/harness";
import { expect, it } from "vitest";
import { OCI_ERROR_CODES } from "./index.js";

const readme = () => readFile(new URL("../README.md", import.meta.url), "utf8");

// The README's example, run as written but against this package's source.
it("README example", async () => {
  const { lines } = await runReadmeExample({
    readmeUrl: new URL("../README.md", import.meta.url),
    packageName: "@hoist/oci",
    sourceUrl: new URL("./index.ts", import.meta.url),
  });
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
