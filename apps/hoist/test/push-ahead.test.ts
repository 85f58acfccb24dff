import { execFileSync } from "node:child_process";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { useStarted } from "@hoist/harness";
import { type RunningRegistry, startRegistry } from "@hoist/registry";
import { describe, expect, it } from "vitest";
import { layoutWith, testImage } from "./fixtures.js";
import { expectOneLineError, isolatedEnv, runCli, useTempDir } from "./helpers.js";

// `hoist push` greets the registry while it reads the image from disk, and still reports a bad
// path before a bad reference, as crane does.

const temp = useTempDir();
const registry = useStarted<RunningRegistry>(
  "@hoist/registry",
  () => startRegistry({}),
  (r) => r.close(),
);

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("push greets the registry while it reads the image", () => {
  it("pings before the image on disk can even be opened", async () => {
    // A named pipe blocks the read until something writes to it: only a push that pings
    // ahead of reading is seen by the registry before then.
    const pipe = join(temp(), "slow-image.tar");
    execFileSync("mkfifo", [pipe]);
    registry().clearRequests();
    const pushing = runCli(["push", pipe, `${registry().host}/ahead/app:v1`], {
      env: isolatedEnv(temp()),
    });
    await until(
      () =>
        registry()
          .requests()
          .some((r) => r.route === "ping"),
      "the registry's ping while the image is unread",
    );
    const writer = await open(pipe, "w");
    // hoist may give up on the pipe (it cannot seek) before anything is written to it.
    await writer.write("this is not a tarball").catch(() => {});
    await writer.close();
    const line = expectOneLineError(await pushing);
    expect(line).toContain(pipe);
    // Nothing but the greeting reached the registry.
    expect(
      new Set(
        registry()
          .requests()
          .map((r) => r.route),
      ),
    ).toEqual(new Set(["ping"]));
  }, 60_000);

  it("reports a missing path before a bad reference, and a bad reference after a good path", async () => {
    const missing = join(temp(), "no-such-image");
    const both = expectOneLineError(
      await runCli(["push", missing, "Not A Reference"], { env: isolatedEnv(temp()) }),
    );
    expect(both).toContain(missing);
    const layout = await layoutWith(temp(), "good-layout", [testImage("push-ahead")]);
    const reference = expectOneLineError(
      await runCli(["push", layout, "Not A Reference"], { env: isolatedEnv(temp()) }),
    );
    expect(reference).toMatch(/Not A Reference/);
  });
});
