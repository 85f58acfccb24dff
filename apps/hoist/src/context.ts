import { readFile } from "node:fs/promises";
import type { Keychain } from "@hoist/authn";
import type { ParseOptions } from "@hoist/name";
import type { Platform } from "@hoist/oci";
import type { Transport } from "@hoist/transport";
import { CliError } from "./errors.js";
import { type Io, isTTY, write } from "./io.js";
import { VERSION } from "./version.js";
import { colorAllowed, WarningCollector } from "./warnings.js";

/** crane's persistent flags, valid on every command. */
export interface GlobalFlags {
  verbose: boolean;
  insecure: boolean;
  /** "os/arch[/variant][:osversion]", or undefined for crane's "all". */
  platform: string | undefined;
  allowNondistributableArtifacts: boolean;
}

/**
 * What a running command uses: its streams, the global flags turned into library options,
 * and one transport and keychain shared by everything the command does (so a copy of many
 * tags costs one handshake per registry). Everything heavy is created on first use.
 */
export class Context {
  readonly io: Io;
  readonly flags: GlobalFlags;
  readonly signal: AbortSignal;
  readonly warnings = new WarningCollector();
  #transport: Promise<Transport> | undefined;
  #keychain: Promise<Keychain> | undefined;
  #platform: Platform | undefined | null = null;

  constructor(io: Io, flags: GlobalFlags, signal: AbortSignal) {
    this.io = io;
    this.flags = flags;
    this.signal = signal;
  }

  /** Reference parsing options: `--insecure` allows plain http to any registry. */
  get nameOptions(): ParseOptions {
    return this.flags.insecure ? { insecure: true } : {};
  }

  /** Whether stderr is a terminal that may show progress bars. */
  get interactive(): boolean {
    return isTTY(this.io.stderr) && !this.flags.verbose && this.io.env.CI !== "true";
  }

  get color(): boolean {
    return colorAllowed(this.io.env);
  }

  async out(chunk: string | Uint8Array): Promise<void> {
    await write(this.io.stdout, chunk);
  }

  /** A log line on stderr (crane's `log.Printf`). */
  log(message: string): void {
    this.io.stderr.write(`${message}\n`);
  }

  /** A warning on stderr (crane's `logs.Warn`). */
  warn(message: string): void {
    this.io.stderr.write(`WARNING: ${message}\n`);
  }

  /** Debug output, only with -v/--verbose. */
  debug(line: string): void {
    if (this.flags.verbose) this.io.stderr.write(`DEBUG: ${line}\n`);
  }

  /** `--platform`, parsed; undefined for "all". */
  async platform(): Promise<Platform | undefined> {
    if (this.#platform !== null) return this.#platform;
    const text = this.flags.platform;
    if (text === undefined) {
      this.#platform = undefined;
      return undefined;
    }
    const { parsePlatform } = await import("@hoist/oci");
    try {
      this.#platform = parsePlatform(text);
    } catch (cause) {
      throw new CliError(
        `invalid argument "${text}" for "--platform" flag: expected os/arch[/variant][:osversion], e.g. linux/amd64`,
        { code: "HOIST_CLI_USAGE", operation: "parse --platform", input: text, cause },
      );
    }
    return this.#platform;
  }

  /** The default keychain plus the cloud plugins (see keychain.ts). */
  keychain(): Promise<Keychain> {
    // Imported on first use, so that `hoist version` does not load the credential code.
    this.#keychain ??= import("./keychain.js").then(({ cliKeychain }) =>
      cliKeychain({ env: this.io.env, debug: (line) => this.debug(line) }),
    );
    return this.#keychain;
  }

  /** The shared transport: TLS checks off with --insecure, debug lines with --verbose. */
  transport(): Promise<Transport> {
    this.#transport ??= this.#createTransport();
    return this.#transport;
  }

  async #createTransport(): Promise<Transport> {
    const { createTransport } = await import("@hoist/transport");
    const headers = await configHeaders(this.io.env, (line) => this.debug(line));
    return createTransport({
      userAgent: `hoist-cli/${VERSION}`,
      ...(this.flags.insecure ? { tls: { insecureSkipVerify: true } } : {}),
      ...(this.flags.verbose ? { debug: (line: string) => this.debug(line) } : {}),
      headers,
      onResponse: (response) => this.warnings.addHeader(response.headers.get("warning")),
    });
  }

  /** Prints collected registry warnings and closes connections. */
  async close(): Promise<void> {
    for (const line of this.warnings.report({ color: this.color })) {
      this.io.stderr.write(`${line}\n`);
    }
    if (this.#transport) {
      const transport = await this.#transport.catch(() => undefined);
      await transport?.close();
    }
  }
}

/**
 * The `HttpHeaders` of docker's config.json, which crane adds to every request. A missing or
 * unreadable file is only a debug note, as in crane; credential and framing headers are skipped
 * (they would be sent to every host).
 */
export async function configHeaders(
  env: Readonly<Record<string, string | undefined>>,
  debug: (line: string) => void,
): Promise<Record<string, string>> {
  const { dockerConfigPath } = await import("@hoist/authn");
  const { isSettableHeader } = await import("@hoist/transport");
  const path = dockerConfigPath({ env });
  let document: unknown;
  try {
    document = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") debug(`failed to read config file ${path}: ${(error as Error).message}`);
    return {};
  }
  const found = (document as { HttpHeaders?: unknown } | null)?.HttpHeaders;
  if (typeof found !== "object" || found === null) return {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(found)) {
    if (typeof value !== "string") continue;
    if (!isSettableHeader(name)) {
      debug(`ignoring HttpHeaders.${name} from ${path}`);
      continue;
    }
    if (/[\r\n\0]/.test(value)) {
      debug(`ignoring HttpHeaders.${name} from ${path}: control characters`);
      continue;
    }
    headers[name] = value;
  }
  return headers;
}
