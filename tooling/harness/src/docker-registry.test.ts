import { execFileSync } from "node:child_process";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { startDockerRegistry } from "./docker-registry.js";
import { generatedTar } from "./generated-tar.js";
import { plainGet } from "./http-get.js";
import { findBinary, MissingBinaryError } from "./system-binary.js";
import { useDockerRegistry } from "./use-docker-registry.js";

describe("docker-registry harness", () => {
  const registry = useDockerRegistry();

  it("serves the distribution API on loopback", async () => {
    const res = await plainGet(`${registry().url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers["docker-distribution-api-version"]).toBe("registry/2.0");
    expect(registry().host).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("answers the catalog of an empty registry", async () => {
    const res = await plainGet(`${registry().url}/v2/_catalog`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ repositories: [] });
    expect(await registry().waitForLog("/v2/_catalog")).toContain("/v2/_catalog");
  });

  it("runs several registries side by side and stops them cleanly", async () => {
    const other = await startDockerRegistry();
    expect(other.port).not.toBe(registry().port);
    await other.stop();
    await expect(plainGet(`${other.url}/v2/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("missing binaries", () => {
  it("fail with an install hint instead of being skipped", () => {
    const attempt = () => findBinary("hoist-no-such-binary", { debianPackage: "hoist-nothing" });
    expect(attempt).toThrow(MissingBinaryError);
    expect(attempt).toThrow(/sudo apt-get install -y hoist-nothing/);
  });
});

describe("generated tar streams", () => {
  it("are valid tar archives of the asked size, the same for the same seed", async () => {
    const size = 3 * 1024 * 1024 + 123;
    const bytes = await buffer(generatedTar(size, { seed: 5 }));
    expect(bytes.length % 512).toBe(0);
    expect(bytes.equals(await buffer(generatedTar(size, { seed: 5 })))).toBe(true);
    expect(bytes.equals(await buffer(generatedTar(size, { seed: 6 })))).toBe(false);
    const listing = execFileSync("tar", ["-tvf", "-"], { input: bytes, encoding: "utf8" });
    expect(listing).toMatch(new RegExp(`\\s${size}\\s.*data\\.bin`));
  });
});
