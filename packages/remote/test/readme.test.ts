import { readFileSync } from "node:fs";
import { useHtpasswdRegistry } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { REMOTE_ERROR_CODES } from "../src/index.js";
import { example } from "./readme-example.js";

describe("README", () => {
  const registry = useHtpasswdRegistry({ users: { ci: "ci-secret" } });
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

  it("README example", async () => {
    const result = await example({
      registry: registry().host,
      username: "ci",
      password: "ci-secret",
    });
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.same).toBe(true);
    expect(result.architecture).toBe("arm64");
    expect(result.tags).toEqual(["v1"]);
    expect(result.missing).toBe("HOIST_REMOTE_NOT_FOUND");
    expect(result.progress?.complete).toBe(result.progress?.total);
    expect(result.progress?.total).toBeGreaterThan(8192);
    expect(
      await registry().waitForLog(
        /POST \/v2\/demo\/copy\/blobs\/uploads\/\?mount=\S+ HTTP\/1.1" 201/,
      ),
    ).toBeTruthy();
  });

  it("shows the example exactly as the test runs it", () => {
    const example = readFileSync(new URL("./readme-example.ts", import.meta.url), "utf8").replace(
      'from "../src/index.js"',
      'from "@hoist/remote"',
    );
    expect(readme).toContain(example.trim());
  });

  it("documents every error code", () => {
    for (const code of REMOTE_ERROR_CODES) {
      expect(readme).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
    }
  });
});
