import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  type DockerRegistryOptions,
  type RunningDockerRegistry,
  startDockerRegistry,
} from "./docker-registry.js";
import { findBinary } from "./system-binary.js";
import {
  type RunningTokenServer,
  startTokenServer,
  type TokenServerOptions,
} from "./token-server.js";

export interface HtpasswdRegistryOptions extends Omit<DockerRegistryOptions, "config"> {
  /** username → password; each becomes a bcrypt line made by `htpasswd -Bbn`. */
  users: Record<string, string>;
  /** The Basic realm the registry names. Default "hoist-basic". */
  realm?: string;
}

/** docker-registry with htpasswd Basic auth. */
export async function startHtpasswdRegistry(
  options: HtpasswdRegistryOptions,
): Promise<RunningDockerRegistry> {
  const htpasswd = findBinary("htpasswd", {
    debianPackage: "apache2-utils",
    candidates: ["/usr/bin/htpasswd"],
  });
  const dir = await mkdtemp(join(tmpdir(), "hoist-htpasswd-"));
  const lines = Object.entries(options.users).map(([user, password]) =>
    execFileSync(htpasswd, ["-Bbn", user, password], { encoding: "utf8" }).trim(),
  );
  const path = join(dir, "htpasswd");
  await writeFile(path, `${lines.join("\n")}\n`);
  const { users: _users, realm, ...rest } = options;
  try {
    const registry = await startDockerRegistry({
      ...rest,
      config: { auth: { htpasswd: { realm: realm ?? "hoist-basic", path } } },
    });
    return {
      ...registry,
      logs: registry.logs,
      async stop() {
        await registry.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface TokenAuthRegistry {
  readonly registry: RunningDockerRegistry;
  readonly tokenServer: RunningTokenServer;
  stop(): Promise<void>;
}

export interface TokenAuthRegistryOptions extends TokenServerOptions {
  registry?: Omit<DockerRegistryOptions, "config">;
}

/** A token server and a docker-registry that trusts it (`auth.token`), on loopback. */
export async function startTokenAuthRegistry(
  options: TokenAuthRegistryOptions = {},
): Promise<TokenAuthRegistry> {
  const { registry: registryOptions, ...tokenOptions } = options;
  const tokenServer = await startTokenServer(tokenOptions);
  try {
    const registry = await startDockerRegistry({
      ...registryOptions,
      config: { auth: tokenServer.registryAuthConfig() },
    });
    return {
      registry,
      tokenServer,
      async stop() {
        await registry.stop();
        await tokenServer.stop();
      },
    };
  } catch (error) {
    await tokenServer.stop();
    throw error;
  }
}

function lazy<T>(
  name: string,
  start: () => Promise<T>,
  stop: (value: T) => Promise<void>,
): () => T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
  });
  afterAll(async () => {
    if (value !== undefined) await stop(value);
  });
  return () => {
    if (value === undefined) throw new Error(`${name}: only available inside tests and hooks`);
    return value;
  };
}

/** startHtpasswdRegistry before the file's tests, stopped after them. */
export function useHtpasswdRegistry(options: HtpasswdRegistryOptions): () => RunningDockerRegistry {
  return lazy(
    "useHtpasswdRegistry()",
    () => startHtpasswdRegistry(options),
    (r) => r.stop(),
  );
}

/** startTokenAuthRegistry before the file's tests, stopped after them. */
export function useTokenAuthRegistry(
  options: TokenAuthRegistryOptions = {},
): () => TokenAuthRegistry {
  return lazy(
    "useTokenAuthRegistry()",
    () => startTokenAuthRegistry(options),
    (r) => r.stop(),
  );
}

export { lazy as useStarted };
