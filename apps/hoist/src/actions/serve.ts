import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStorage, memoryStorage, startRegistry } from "@hoist/registry";
import { CliError, usageError } from "../errors.js";
import type { Action } from "../program.js";

/** "host:port", ":port", "[::1]:port" or "port", as Go's net.Listen takes them. */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*))?:(\d+)$/.exec(address) ?? /^()()(\d+)$/.exec(address);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw usageError(
      `invalid --address ${JSON.stringify(address)}: expected host:port, :port or [ipv6]:port`,
      "registry serve",
    );
  }
  const host = match[1] ?? match[2] ?? "";
  return { host: host === "" ? undefined : host, port };
}

/**
 * `hoist registry serve`: an OCI registry on $PORT, --address or a free port, until Ctrl-C.
 * Like crane it listens on every interface unless --address names one.
 */
export const serve: Action = async (context, _args, options) => {
  let address = `:${context.io.env.PORT || "0"}`;
  if (typeof options.address === "string" && options.address !== "") address = options.address;
  const { host, port } = parseListenAddress(address);

  let disk = typeof options.disk === "string" && options.disk !== "" ? options.disk : undefined;
  if (options.blobsToDisk) {
    if (disk) throw usageError("--disk and --blobs-to-disk can't be used together", "serve");
    context.warn('--blobs-to-disk is deprecated and will stop working; use --disk="$(mktemp -d)"');
    disk = await mkdtemp(join(tmpdir(), "hoist-registry-"));
  }
  if (disk) context.log(`storing blobs in ${disk}`);

  let registry: Awaited<ReturnType<typeof startRegistry>>;
  try {
    registry = await startRegistry({
      host: host ?? "0.0.0.0",
      port,
      storage: disk ? fileStorage(disk) : memoryStorage(),
      logger: (entry) => context.log(entry.message),
      signal: context.signal,
    });
  } catch (cause) {
    if (context.signal.aborted) return;
    throw new CliError(`cannot listen on ${address}: ${(cause as Error).message}`, {
      code: "HOIST_CLI_IO",
      operation: "registry serve",
      input: address,
      cause,
    });
  }
  context.log(`serving on port ${registry.port}`);

  await new Promise<void>((resolve) => {
    if (context.signal.aborted) resolve();
    else context.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  context.log("shutting down...");
  await registry.close();
};
