import { afterAll, expect, it } from "vitest";
import { startRegistry } from "../src/index.js";

const registry = await startRegistry();
afterAll(() => registry.close());

it("README example", async () => {
  const ping = await fetch(`${registry.url}/v2/`);
  expect(ping.status).toBe(200);
  expect(ping.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  // Point clients at registry.host ("127.0.0.1:PORT"), then look at what they did:
  const log = registry.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
  expect(log).toEqual(["GET /v2/ 200"]);
});
// ---- end of the README example

it("README shows the example above, and documents every error code", async () => {
  const { readFile } = await import("node:fs/promises");
  const { REGISTRY_ERROR_CODES } = await import("../src/index.js");
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const self = await readFile(new URL(import.meta.url), "utf8");
  const example = self
    .slice(0, self.indexOf("// ---- end of the README example"))
    .replace("../src/index.js", "@hoist/registry");
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBe(example);
  for (const code of REGISTRY_ERROR_CODES)
    expect(readme).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
});
