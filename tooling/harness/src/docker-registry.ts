import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { findBinary } from "./system-binary.js";
import { waitForHttp } from "./wait-for-http.js";

export interface DockerRegistryOptions {
  /**
   * Extra registry configuration merged over the defaults (top-level keys replace,
   * objects merge one level deep), for example `{ auth: { htpasswd: {...} } }`.
   */
  config?: Record<string, unknown>;
  /** Storage root to use; by default a fresh temporary directory that stop() removes. */
  storageRoot?: string;
  /** Milliseconds to wait for the registry to answer on /v2/. Default 15000. */
  startTimeoutMs?: number;
  /** Serve https with this certificate and key (PEM file paths); `url` then starts with https. */
  tls?: { certificatePath: string; keyPath: string };
}

export interface RunningDockerRegistry {
  /** "127.0.0.1:PORT", usable as a registry host in references. */
  readonly host: string;
  readonly port: number;
  /** "http://127.0.0.1:PORT" ("https://..." with the tls option) */
  readonly url: string;
  readonly storageRoot: string;
  /** Everything the registry has logged so far (access log included). */
  logs(): string;
  /**
   * Resolves with the log once it matches: the registry writes its access log after the
   * response, so a test that reads the log right after a request must wait for the line.
   */
  waitForLog(match: string | RegExp, options?: { timeoutMs?: number }): Promise<string>;
  stop(): Promise<void>;
}

const MAX_LOG_CHARS = 4 * 1024 * 1024;

function mergeConfig(base: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = merged[key];
    const bothObjects =
      value !== null &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      current !== null &&
      typeof current === "object" &&
      !Array.isArray(current);
    merged[key] = bothObjects ? { ...(current as object), ...(value as object) } : value;
  }
  return merged;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function startOnce(
  binary: string,
  port: number,
  storageRoot: string,
  options: DockerRegistryOptions,
): Promise<RunningDockerRegistry> {
  const configDir = await mkdtemp(join(tmpdir(), "hoist-registry-config-"));
  const config = mergeConfig(
    {
      version: 0.1,
      log: { level: "info", formatter: "text", accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: storageRoot },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: `127.0.0.1:${port}`,
        secret: "hoist-test-secret",
        ...(options.tls
          ? { tls: { certificate: options.tls.certificatePath, key: options.tls.keyPath } }
          : {}),
      },
    },
    options.config,
  );
  // JSON is valid YAML, so the registry reads this file as its config.yml.
  const configPath = join(configDir, "config.yml");
  await writeFile(configPath, JSON.stringify(config, null, 2));

  let logs = "";
  const child = spawn(binary, ["serve", configPath], { stdio: ["ignore", "pipe", "pipe"] });
  const append = (chunk: Buffer) => {
    logs += chunk.toString("utf8");
    if (logs.length > MAX_LOG_CHARS) logs = logs.slice(-MAX_LOG_CHARS);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  // A crashed test process must not leave registries behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
  try {
    // A TLS registry answers a plain-http probe with 400, which still proves it is up.
    await waitForHttp(`http://127.0.0.1:${port}/v2/`, {
      timeoutMs: options.startTimeoutMs ?? 15_000,
      gaveUp: () =>
        child.exitCode !== null
          ? `docker-registry exited with ${child.exitCode}:\n${logs}`
          : undefined,
    });
  } catch (error) {
    child.kill("SIGKILL");
    await exited(child);
    process.removeListener("exit", killOnExit);
    await rm(configDir, { recursive: true, force: true });
    throw Object.assign(error as Error, { registryLogs: logs });
  }

  let stopped: Promise<void> | undefined;
  return {
    host: `127.0.0.1:${port}`,
    port,
    url,
    storageRoot,
    logs: () => logs,
    async waitForLog(match, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 5000);
      const matches = () => (typeof match === "string" ? logs.includes(match) : match.test(logs));
      while (!matches()) {
        if (Date.now() > deadline) throw new Error(`docker-registry never logged ${String(match)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return logs;
    },
    stop() {
      stopped ??= (async () => {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited(child);
        clearTimeout(timer);
        process.removeListener("exit", killOnExit);
        await rm(configDir, { recursive: true, force: true });
        if (!options.storageRoot) await rm(storageRoot, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/**
 * Starts Debian's `docker-registry` (the CNCF distribution registry) on a free loopback port
 * with filesystem storage in a temporary directory.
 */
export async function startDockerRegistry(
  options: DockerRegistryOptions = {},
): Promise<RunningDockerRegistry> {
  const binary = findBinary("docker-registry", {
    debianPackage: "docker-registry",
    candidates: ["/usr/bin/docker-registry"],
  });
  const storageRoot =
    options.storageRoot ?? (await mkdtemp(join(tmpdir(), "hoist-registry-data-")));
  let lastError: unknown;
  // The free port can be taken between probing and binding; try a few ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, await freePort(), storageRoot, options);
    } catch (error) {
      lastError = error;
      const logs = (error as { registryLogs?: string }).registryLogs ?? "";
      if (!logs.includes("address already in use")) break;
    }
  }
  if (!options.storageRoot) await rm(storageRoot, { recursive: true, force: true });
  throw lastError;
}
