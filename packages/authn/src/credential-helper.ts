import { HELPER_TOKEN_USERNAME, helperCredential } from "./auth-entry.js";
import { anonymous, type Credential, fromCredential } from "./credential.js";
import {
  AuthnError,
  type CredentialHelperAction,
  CredentialHelperError,
  describeError,
} from "./errors.js";
import type { Keychain, ResolveOptions } from "./keychain.js";
import { type Resource, resourceRegistryHost } from "./resource.js";
import { registryAuthKey } from "./server-address.js";

/** What credential helpers print for a registry they hold nothing for. */
export const CREDENTIALS_NOT_FOUND_MESSAGE = "credentials not found in native keychain";

/** The default limit on one helper run. Helpers can hang (docker-credential-desktop on WSL does). */
export const DEFAULT_HELPER_TIMEOUT_MS = 30_000;

// Caps on what is kept from a helper's output: real answers are a few hundred bytes.
const MAX_STDOUT_BYTES = 1024 * 1024;
const MAX_REPORTED_CHARS = 4096;

export interface CredentialHelperOptions {
  /** Environment for the helper, PATH included (where `docker-credential-<name>` is looked up). Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds before a run is killed. Default 30000. */
  timeoutMs?: number;
}

export interface HelperCallOptions {
  signal?: AbortSignal;
}

/** A secret as credential helpers exchange it (`{ServerURL, Username, Secret}` on the wire). */
export interface HelperCredentials {
  readonly serverURL: string;
  readonly username: string;
  readonly secret: string;
}

/** A `docker-credential-<name>` program, spoken to exactly as docker does. */
export interface CredentialHelper {
  /** The suffix, e.g. "pass". */
  readonly name: string;
  /** The program, e.g. "docker-credential-pass". */
  readonly program: string;
  /** `get`: undefined when the helper answers "credentials not found". */
  get(serverURL: string, options?: HelperCallOptions): Promise<HelperCredentials | undefined>;
  store(credentials: HelperCredentials, options?: HelperCallOptions): Promise<void>;
  /** `erase`: false when the helper had nothing stored for the server. */
  erase(serverURL: string, options?: HelperCallOptions): Promise<boolean>;
  /** `list`: server URL → username. */
  list(options?: HelperCallOptions): Promise<Record<string, string>>;
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function cap(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > MAX_REPORTED_CHARS ? `${trimmed.slice(0, MAX_REPORTED_CHARS)}…` : trimmed;
}

/** Replaces any secret we sent that a helper echoed back, so errors never carry it. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  return out;
}

function killGroup(pid: number | undefined, fallback: () => void): void {
  if (pid === undefined) return;
  try {
    // The helper runs in its own process group, so a helper that forked (a shell running
    // another program) is killed whole and cannot keep our pipes open.
    process.kill(-pid, "SIGKILL");
  } catch {
    fallback();
  }
}

function runHelper(
  helper: string,
  program: string,
  action: CredentialHelperAction,
  input: string,
  options: CredentialHelperOptions & HelperCallOptions,
  secrets: readonly string[],
): Promise<RunResult> {
  options.signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
  return new Promise<RunResult>((resolve, reject) => {
    let settled = false;
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr: Buffer[] = [];
    let stderrBytes = 0;
    // Loaded on the first helper call: most commands never run one, and node:child_process
    // costs every command ~4 ms to load on the 2-core machine.
    const { spawn } = process.getBuiltinModule("node:child_process");
    // No shell: the program name is never interpreted, whatever a config file says.
    const child = spawn(program, [action], {
      env: (options.env ?? process.env) as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "pipe"],
      shell: false,
      detached: process.platform !== "win32",
      windowsHide: true,
    });

    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      outcome();
    };
    const stop = () => {
      killGroup(child.pid, () => child.kill("SIGKILL"));
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.stdin?.destroy();
    };
    const timer = setTimeout(() => {
      stop();
      finish(() =>
        reject(
          new CredentialHelperError(
            `credential helper "${program}" did not answer "${action}" within ${timeoutMs} ms and was killed. Check that it works on its own (echo <server> | ${program} get), or raise the helper timeout.`,
            {
              code: "HOIST_AUTHN_HELPER_TIMEOUT",
              helper: program,
              action,
              stderr: redact(cap(Buffer.concat(stderr).toString("utf8")), secrets),
            },
          ),
        ),
      );
    }, timeoutMs);
    const onAbort = () => {
      stop();
      finish(() => reject(options.signal?.reason));
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout?.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes <= MAX_STDOUT_BYTES) stdout.push(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderrBytes += chunk.length;
      if (stderrBytes <= MAX_STDOUT_BYTES) stderr.push(chunk);
    });
    // A helper may exit without reading its input; that is not our failure.
    child.stdin?.on("error", () => {});
    child.on("error", (error: NodeJS.ErrnoException) => {
      stop();
      const missing = error.code === "ENOENT" || error.code === "EACCES";
      finish(() =>
        reject(
          new CredentialHelperError(
            missing
              ? `credential helper "${program}" was not found on PATH or is not executable (${error.code}). Install it, or remove "${helper}" from credsStore/credHelpers in your docker config.`
              : `credential helper "${program}" could not be started: ${error.message}.`,
            {
              code: missing ? "HOIST_AUTHN_HELPER_NOT_FOUND" : "HOIST_AUTHN_HELPER_FAILED",
              helper: program,
              action,
              cause: error,
            },
          ),
        ),
      );
    });
    child.on("close", (code, signal) => {
      finish(() =>
        resolve({
          exitCode: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8"),
        }),
      );
    });
    child.stdin?.end(input);
  });
}

/**
 * Secrets a helper printed itself: a helper that writes its credential JSON and then fails
 * (a wrapper script under `set -e`, say) must not get the secret into our error.
 */
function printedSecrets(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/"secret"\s*:\s*"((?:[^"\\]|\\.)*)"/gi)) {
    const raw = match[1] ?? "";
    found.push(raw);
    try {
      found.push(JSON.parse(`"${raw}"`) as string);
    } catch {
      // half a string: the raw form is all there is
    }
  }
  return found;
}

function failure(
  program: string,
  action: CredentialHelperAction,
  subject: string,
  result: RunResult,
  sent: readonly string[],
): CredentialHelperError {
  const secrets = [...sent, ...printedSecrets(result.stdout), ...printedSecrets(result.stderr)];
  const stderr = redact(cap(result.stderr), secrets);
  const output = redact(cap(result.stdout), secrets);
  const said = [output, stderr].filter(Boolean).join(" / ");
  return new CredentialHelperError(
    `credential helper "${program}" failed to ${action} credentials${subject} (exit code ${result.exitCode})${said ? `: ${said}` : ""}`,
    {
      code: "HOIST_AUTHN_HELPER_FAILED",
      helper: program,
      action,
      exitCode: result.exitCode,
      stderr,
      output,
    },
  );
}

function invalidOutput(
  program: string,
  action: CredentialHelperAction,
  detail: string,
): CredentialHelperError {
  // The output itself is not quoted: a successful answer carries the secret.
  return new CredentialHelperError(
    `credential helper "${program}" answered "${action}" with ${detail}; expected the credential helper protocol's JSON.`,
    { code: "HOIST_AUTHN_HELPER_INVALID_OUTPUT", helper: program, action },
  );
}

function validateName(name: string): void {
  // The name becomes part of a program name looked up on PATH; a path separator would let a
  // config file point anywhere.
  if (!name || /[/\\\0]/.test(name)) {
    throw new AuthnError(
      `credential helper name ${JSON.stringify(name)} is not valid: it must be a plain suffix such as "pass" or "ecr-login".`,
      { code: "HOIST_AUTHN_INVALID_ARGUMENT", operation: "run credential helper" },
    );
  }
}

/** Speaks the docker-credential-helpers protocol to `docker-credential-<name>`. */
export function credentialHelper(
  name: string,
  options: CredentialHelperOptions = {},
): CredentialHelper {
  validateName(name);
  const program = `docker-credential-${name}`;
  const run = (
    action: CredentialHelperAction,
    input: string,
    call: HelperCallOptions,
    secrets: string[] = [],
  ) => runHelper(name, program, action, input, { ...options, ...call }, secrets);

  return Object.freeze({
    name,
    program,
    async get(serverURL: string, call: HelperCallOptions = {}) {
      // The server address goes on stdin without a newline, as docker sends it.
      const result = await run("get", serverURL, call);
      if (result.exitCode !== 0) {
        if (result.stdout.trim() === CREDENTIALS_NOT_FOUND_MESSAGE) return undefined;
        throw failure(program, "get", ` for "${serverURL}"`, result, []);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(result.stdout);
      } catch {
        throw invalidOutput(program, "get", "output that is not JSON");
      }
      if (typeof parsed !== "object" || parsed === null) {
        throw invalidOutput(program, "get", "JSON that is not an object");
      }
      const { Username = "", Secret = "", ServerURL } = parsed as Record<string, unknown>;
      if (typeof Username !== "string" || typeof Secret !== "string") {
        throw invalidOutput(program, "get", "a Username or Secret that is not a string");
      }
      return {
        serverURL: typeof ServerURL === "string" && ServerURL ? ServerURL : serverURL,
        username: Username,
        secret: Secret,
      };
    },
    async store(credentials: HelperCredentials, call: HelperCallOptions = {}) {
      const payload = `${JSON.stringify({
        ServerURL: credentials.serverURL,
        Username: credentials.username,
        Secret: credentials.secret,
      })}\n`;
      const result = await run("store", payload, call, [credentials.secret]);
      if (result.exitCode !== 0) {
        throw failure(program, "store", ` for "${credentials.serverURL}"`, result, [
          credentials.secret,
        ]);
      }
    },
    async erase(serverURL: string, call: HelperCallOptions = {}) {
      const result = await run("erase", serverURL, call);
      if (result.exitCode === 0) return true;
      if (result.stdout.trim() === CREDENTIALS_NOT_FOUND_MESSAGE) return false;
      throw failure(program, "erase", ` for "${serverURL}"`, result, []);
    },
    async list(call: HelperCallOptions = {}) {
      // docker sends a placeholder on stdin for `list`.
      const result = await run("list", "unused", call);
      if (result.exitCode !== 0) throw failure(program, "list", "", result, []);
      let parsed: unknown;
      try {
        parsed = JSON.parse(result.stdout);
      } catch {
        throw invalidOutput(program, "list", "output that is not JSON");
      }
      if (
        typeof parsed !== "object" ||
        parsed === null ||
        Array.isArray(parsed) ||
        !Object.values(parsed).every((value) => typeof value === "string")
      ) {
        throw invalidOutput(program, "list", "JSON that is not a map of server URL to username");
      }
      return { ...(parsed as Record<string, string>) };
    },
  });
}

/** The credential a helper's answer grants ("<token>" as username means an identity token). */
export function credentialFromHelper(
  credentials: HelperCredentials | undefined,
): Credential | undefined {
  return credentials ? helperCredential(credentials.username, credentials.secret) : undefined;
}

/**
 * A credential in the form a credential helper prints it (what `crane auth get` prints): an
 * identity token becomes username "<token>". A registry token has no helper form, so its
 * fields stay empty, as crane's are.
 */
export function toHelperCredentials(
  serverURL: string,
  credential: Credential,
): HelperCredentials | undefined {
  switch (credential.kind) {
    case "anonymous":
      return undefined;
    case "basic":
      return { serverURL, username: credential.username, secret: credential.password };
    case "identity-token":
      return { serverURL, username: HELPER_TOKEN_USERNAME, secret: credential.token };
    case "registry-token":
      return { serverURL, username: "", secret: "" };
  }
}

export interface HelperKeychainOptions extends CredentialHelperOptions {
  /** Shown in error reports. Default "credential-helper:<name>". */
  name?: string;
}

/**
 * A keychain that asks one credential helper for every registry (Docker Hub by its v1 key).
 * "Credentials not found" is anonymous; every other failure is an error, unlike ggcr's
 * NewKeychainFromHelper, which hides helper failures as anonymous.
 */
export function helperKeychain(helperName: string, options: HelperKeychainOptions = {}): Keychain {
  const helper = credentialHelper(helperName, options);
  return Object.freeze({
    name: options.name ?? `credential-helper:${helperName}`,
    async resolve(resource: Resource, call: ResolveOptions = {}) {
      const key = registryAuthKey(resourceRegistryHost(resource));
      try {
        const credential = credentialFromHelper(await helper.get(key, call));
        return credential ? fromCredential(credential) : anonymous;
      } catch (error) {
        if (AuthnError.is(error)) throw error;
        call.signal?.throwIfAborted();
        throw new AuthnError(
          `credential helper "${helper.program}" failed: ${describeError(error)}`,
          {
            code: "HOIST_AUTHN_HELPER_FAILED",
            operation: "resolve credentials",
            cause: error,
          },
        );
      }
    },
  });
}
