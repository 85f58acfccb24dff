import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { HOIST_BIN, isolatedEnv, useTempDir } from "./helpers.js";

const temp = useTempDir();

interface Served {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

function serve(args: string[], extraEnv: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [HOIST_BIN, "registry", "serve", ...args], {
    env: isolatedEnv(temp(), extraEnv) as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "serving on port" line: ${stderr}`)),
      15_000,
    );
    child.stdout?.on("data", () => reject(new Error("registry serve wrote to stdout")));
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /serving on port (\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), stderr: () => stderr, exited });
      }
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
}

async function pushBlob(port: number, repo: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const started = await fetch(`http://127.0.0.1:${port}/v2/${repo}/blobs/uploads/`, {
    method: "POST",
  });
  expect(started.status).toBe(202);
  const location = new URL(started.headers.get("location") as string, `http://127.0.0.1:${port}`);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, { method: "PUT", body: bytes });
  expect(put.status).toBe(201);
  return digest;
}

describe("hoist registry serve", () => {
  it("serves on --address, logs requests on stderr, and shuts down on Ctrl-C", async () => {
    const port = await freePort();
    const served = await serve(["--address", `127.0.0.1:${port}`]);
    expect(served.port).toBe(port);
    const ping = await fetch(`http://127.0.0.1:${port}/v2/`);
    expect(ping.status).toBe(200);
    expect(ping.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    const digest = await pushBlob(port, "demo/app", Buffer.from("hello"));
    const blob = await fetch(`http://127.0.0.1:${port}/v2/demo/app/blobs/${digest}`);
    expect(await blob.text()).toBe("hello");
    served.child.kill("SIGINT");
    expect(await served.exited).toBe(0);
    expect(served.stderr()).toContain("GET /v2/ 200");
    expect(served.stderr()).toContain("shutting down...");
  });

  it("listens on $PORT, and keeps blobs in --disk", async () => {
    const port = await freePort();
    const disk = join(temp(), "disk");
    const served = await serve(["--disk", disk], { PORT: String(port) });
    expect(served.port).toBe(port);
    expect(served.stderr()).toContain(`storing blobs in ${disk}`);
    const digest = await pushBlob(port, "demo/disk", Buffer.from("kept on disk"));
    const hex = digest.slice("sha256:".length);
    const stored = await readdir(join(disk, "blobs", "sha256", hex.slice(0, 2)));
    expect(stored).toContain(hex);
    served.child.kill("SIGTERM");
    expect(await served.exited).toBe(0);
  });

  it("picks a free port without $PORT or --address", async () => {
    const served = await serve([]);
    expect(served.port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${served.port}/v2/`)).status).toBe(200);
    served.child.kill("SIGINT");
    expect(await served.exited).toBe(0);
  });
});
