import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
// Not "@hoist/harness": its test hooks load vitest, which the benchmark has no use for.
import { type RunningDockerRegistry, startDockerRegistry } from "@hoist/harness/docker-registry";
import { logBetweenMarks } from "./access-log.js";
import { send } from "./registry-client.js";

/**
 * A docker-registry with filesystem storage under a directory the benchmark owns, so it can
 * be wiped between runs (stop, delete the storage, start again: the registry keeps no state
 * elsewhere). The port changes on every restart, so callers read `host` and `url` per run.
 */
export class BenchRegistry {
  #running: RunningDockerRegistry | undefined;

  constructor(
    readonly name: string,
    readonly storageRoot: string,
  ) {}

  get running(): RunningDockerRegistry {
    if (!this.#running) throw new Error(`registry ${this.name} is not running`);
    return this.#running;
  }
  get host(): string {
    return this.running.host;
  }
  get url(): string {
    return this.running.url;
  }

  /** Starts on empty storage, stopping and wiping a running instance first. */
  async restartEmpty(): Promise<void> {
    await this.stop();
    await rm(this.storageRoot, { recursive: true, force: true });
    await mkdir(this.storageRoot, { recursive: true });
    this.#running = await startDockerRegistry({
      storageRoot: this.storageRoot,
      // Warnings only: the harness keeps the last 4 MiB of log, and the access log (which
      // the byte counts read) is written regardless of the level.
      config: { log: { level: "warn", formatter: "text", accesslog: { disabled: false } } },
    });
  }

  async stop(): Promise<void> {
    await this.#running?.stop();
    this.#running = undefined;
  }

  /** Puts a recognisable request into the access log and waits until it is logged. */
  async mark(): Promise<string> {
    const id = randomUUID();
    const response = await send(`${this.url}/v2/?bench-mark=${id}`);
    if (response.status !== 200)
      throw new Error(`registry ${this.name} answered ${response.status} to a mark`);
    await this.running.waitForLog(`bench-mark=${id}`);
    return id;
  }

  /** The access log between two marks. */
  logBetween(startId: string, endId: string): string {
    return logBetweenMarks(this.running.logs(), startId, endId);
  }
}
