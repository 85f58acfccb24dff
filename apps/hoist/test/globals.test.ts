import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  createCertificate,
  startDockerRegistry,
  startHttpOrigin,
  type TestCertificate,
  useHtpasswdRegistry,
} from "@hoist/harness";
import { createLayerTar } from "@hoist/tarball";
import { afterAll, describe, expect, it } from "vitest";
import { layoutWith, testImage } from "./fixtures.js";
import {
  expectOneLineError,
  isolatedEnv,
  runCli,
  useTempDir,
  writeDockerConfig,
} from "./helpers.js";

const temp = useTempDir();

describe("--insecure", () => {
  let certificate: TestCertificate | undefined;
  afterAll(() => certificate?.remove());

  it("is needed for a registry whose certificate does not verify, and then works", async () => {
    certificate = await createCertificate({ commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"] });
    const registry = await startDockerRegistry({
      tls: { certificatePath: certificate.certificatePath, keyPath: certificate.keyPath },
    });
    try {
      const env = isolatedEnv(join(temp(), "tls"));
      const layout = await layoutWith(temp(), "tls-image", [testImage("tls")]);
      const refused = await runCli(["push", layout, `${registry.host}/tls/app:v1`], { env });
      expect(expectOneLineError(refused)).toMatch(/--insecure/);
      const pushed = await runCli(["push", "--insecure", layout, `${registry.host}/tls/app:v1`], {
        env,
      });
      expect(pushed.status, pushed.stderr).toBe(0);
      const listed = await runCli(["--insecure", "ls", `${registry.host}/tls/app`], { env });
      expect(listed.out).toBe("v1\n");
    } finally {
      await registry.stop();
    }
  });
});

describe("-v/--verbose", () => {
  const registry = useHtpasswdRegistry({ users: { alice: "s3cret-pw" } });

  it("logs every request on stderr with credentials redacted; stdout is unchanged", async () => {
    const home = join(temp(), "verbose");
    await writeDockerConfig(home, {
      auths: { [registry().host]: { auth: Buffer.from("alice:s3cret-pw").toString("base64") } },
    });
    const env = isolatedEnv(home);
    const layout = await layoutWith(temp(), "verbose-image", [testImage("verbose")]);
    expect((await runCli(["push", layout, `${registry().host}/v/app:v1`], { env })).status).toBe(0);
    const result = await runCli(["ls", "-v", `${registry().host}/v/app`], { env });
    expect(result.status).toBe(0);
    expect(result.out).toBe("v1\n");
    expect(result.stderr).toMatch(
      /DEBUG: --> GET http:\/\/127\.0\.0\.1:\d+\/v2\/v\/app\/tags\/list/,
    );
    expect(result.stderr).not.toContain("s3cret-pw");
    expect(result.stderr).not.toContain(Buffer.from("alice:s3cret-pw").toString("base64"));
  });

  it("adds the stack of each error to the one line", async () => {
    const result = await runCli(["digest", "-v", "127.0.0.1:1/a:b"], { env: isolatedEnv(temp()) });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*reachable/m);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});

describe("HttpHeaders from the docker config", () => {
  it("are sent with every request, User-Agent and credentials excepted", async () => {
    const origin = await startHttpOrigin({
      handler: (request, res) => {
        if (request.path === "/v2/") {
          res.writeHead(200, { "docker-distribution-api-version": "registry/2.0" });
          res.end("{}");
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"name":"h/app","tags":["one","two"]}');
      },
    });
    try {
      const home = join(temp(), "headers");
      await writeDockerConfig(home, {
        HttpHeaders: {
          "X-Meta-Team": "core",
          "User-Agent": "docker/1",
          Authorization: "Bearer no",
        },
      });
      const result = await runCli(["ls", `${origin.host}/h/app`], { env: isolatedEnv(home) });
      expect(result.out).toBe("one\ntwo\n");
      const sent = origin.requests().find((r) => r.path.startsWith("/v2/h/app/tags/list"));
      expect(sent?.headers["x-meta-team"]).toBe("core");
      expect(sent?.headers["user-agent"]).toMatch(/^hoist\/[\d.]+ hoist-cli\/0\.1\.0$/);
      expect(sent?.headers.authorization).toBeUndefined();
    } finally {
      await origin.stop();
    }
  });
});

describe("append onto a Windows base", () => {
  it("moves the layer's files under Files/ and adds Files and Hives", async () => {
    const { startRegistry } = await import("@hoist/registry");
    const registry = await startRegistry();
    try {
      const env = isolatedEnv(join(temp(), "windows"));
      const layout = await layoutWith(temp(), "win-base", [testImage("win")]);
      const host = registry.host;
      expect((await runCli(["push", layout, `${host}/win/base:v1`], { env })).status).toBe(0);
      expect(
        (
          await runCli(["mutate", `${host}/win/base:v1`, "--set-platform", "windows/amd64"], {
            env,
          })
        ).status,
      ).toBe(0);
      const layer = join(temp(), "win-layer.tar");
      await writeFile(
        layer,
        await createLayerTar({ "app.exe": "MZ", "conf/": { type: "directory" } }),
      );
      const result = await runCli(
        ["append", "-b", `${host}/win/base:v1`, "-f", layer, "-t", `${host}/win/app:v1`],
        { env },
      );
      expect(result.status, result.stderr).toBe(0);
      const manifest = JSON.parse((await runCli(["manifest", `${host}/win/app:v1`], { env })).out);
      const top = manifest.layers.at(-1).digest as string;
      const blob = await runCli(["blob", `${host}/win/app@${top}`], { env });
      const tarPath = join(temp(), "win-top.tar");
      await writeFile(tarPath, gunzipSync(blob.stdout));
      const names = execFileSync("tar", ["-tf", tarPath], { encoding: "utf8" }).trim().split("\n");
      // As crane writes them: names joined under Files, so directories lose their slash.
      expect(names).toEqual(["Files", "Hives", "Files/app.exe", "Files/conf"]);
      // Each entry carries the security descriptor that lets Windows run it.
      const raw = execFileSync("cat", [tarPath]).toString("latin1");
      expect(raw.match(/MSWINDOWS\.rawsd=/g)).toHaveLength(2);
    } finally {
      await registry.close();
    }
  });
});

describe("Ctrl-C", () => {
  it.each([
    ["while the blobs upload", "upload"],
    // The blob is opened beside its upload session (POST): Ctrl-C finds it waiting, unread.
    ["while the upload sessions open", "upload-start"],
  ] as const)(
    "stops a push at once %s: one line on stderr, status 1, nothing on stdout",
    async (_, route) => {
      const { spawn } = await import("node:child_process");
      const { startRegistry } = await import("@hoist/registry");
      const { HOIST_BIN } = await import("./helpers.js");
      // Every upload (or upload session) stalls for a minute, so the push is surely in flight
      // when Ctrl-C comes.
      const registry = await startRegistry({
        faults: { rules: [{ route, latencyMs: 60_000 }] },
      });
      try {
        const layout = await layoutWith(temp(), `interrupted-${route}`, [testImage("interrupted")]);
        const child = spawn(
          process.execPath,
          [HOIST_BIN, "push", layout, `${registry.host}/slow/app:v1`],
          {
            env: isolatedEnv(join(temp(), "interrupt")) as NodeJS.ProcessEnv,
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk;
        });
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk;
        });
        const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
        const started = Date.now();
        // A stalled request is recorded once answered: a stalled POST shows as the blob checks
        // (HEAD) answered before it, and the POST follows them at once.
        const begun = route === "upload" ? ["upload-start", "upload"] : ["blob"];
        while (!registry.requests().some((r) => begun.includes(r.route))) {
          if (Date.now() - started > 15_000) throw new Error(`the push never started: ${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        if (route === "upload-start") await new Promise((resolve) => setTimeout(resolve, 300));
        const interrupted = Date.now();
        child.kill("SIGINT");
        expect(await exited).toBe(1);
        expect(Date.now() - interrupted).toBeLessThan(5_000);
        expect(stdout).toBe("");
        expect(stderr.trimEnd().split("\n"), stderr).toHaveLength(1);
        expect(stderr).toMatch(/^Error: .*(interrupted|abort)/i);
      } finally {
        await registry.close();
      }
    },
  );
});
