import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { findBinary, useDockerRegistry } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { layoutWith, testImage } from "./fixtures.js";
import { HOIST_BIN, isolatedEnv, runCli, useTempDir } from "./helpers.js";

const exec = promisify(execFile);
const registry = useDockerRegistry();
const temp = useTempDir();

/** Runs hoist on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
async function onTerminal(args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
  const script = findBinary("script", {
    debianPackage: "bsdutils",
    candidates: ["/usr/bin/script"],
  });
  const command = [process.execPath, HOIST_BIN, ...args].map((a) => `'${a}'`).join(" ");
  const env = { ...isolatedEnv(temp(), extraEnv), TERM: "xterm" } as NodeJS.ProcessEnv;
  delete env.NO_COLOR;
  Object.assign(env, extraEnv);
  // A wide terminal, so that no bar line is cut at the default 80 columns.
  const { stdout } = await exec(script, ["-qec", `stty cols 200; ${command}`, "/dev/null"], {
    env,
  });
  return stdout;
}

describe("progress on stderr", () => {
  it("draws bars and per-layer lines on a terminal, in colour", async () => {
    const layout = await layoutWith(temp(), "tty-image", [testImage("tty", 3)]);
    const output = await onTerminal(["push", layout, `${registry().host}/tty/app:v1`]);
    expect(output).toMatch(/pushing .*\d+% \| [\d.]+ (B|KiB)\/[\d.]+ KiB \| [\d.]+ (B|KiB|MiB)\/s/);
    expect(output).toMatch(/[0-9a-f]{12} {2}(?:.\[2m)?(?:uploading|done)/);
    expect(output).toContain("\u001b[36m");
    expect(output).toMatch(new RegExp(`${registry().host}/tty/app@sha256:[0-9a-f]{64}`));
  });

  it("leaves colour out with NO_COLOR, and pulls show downloads", async () => {
    const output = await onTerminal(
      ["pull", "--format", "oci", `${registry().host}/tty/app:v1`, `${temp()}/tty-pulled`],
      { NO_COLOR: "1" },
    );
    expect(output).toMatch(/pulling .*100%/);
    expect(output).toMatch(/[0-9a-f]{12} {2}(downloading|done)/);
    expect(output).not.toContain("\u001b[36m");
    expect(output).not.toContain("\u001b[2m");
  });

  it("stays silent when stderr is not a terminal", async () => {
    const layout = await layoutWith(temp(), "pipe-image", [testImage("pipe")]);
    const result = await runCli(["push", layout, `${registry().host}/tty/pipe:v1`], {
      env: isolatedEnv(temp()),
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
  });
});
