/** Stable codes of {@link AuthnError}; callers match on these, never on messages. */
export type AuthnErrorCode =
  /** An argument was malformed: an empty server address, a credential that cannot be stored. */
  | "HOIST_AUTHN_INVALID_ARGUMENT"
  /** A config or auth file is not valid JSON or has a field of the wrong shape. */
  | "HOIST_AUTHN_CONFIG_INVALID"
  /** A config or auth file exists but could not be read (permissions, I/O). */
  | "HOIST_AUTHN_CONFIG_UNREADABLE"
  /** Writing a config file failed; the previous file is untouched. */
  | "HOIST_AUTHN_CONFIG_WRITE_FAILED"
  /** `docker-credential-<name>` is not on PATH (or not executable). */
  | "HOIST_AUTHN_HELPER_NOT_FOUND"
  /** A credential helper exited non-zero for a reason other than "credentials not found". */
  | "HOIST_AUTHN_HELPER_FAILED"
  /** A credential helper did not finish in time and was killed. */
  | "HOIST_AUTHN_HELPER_TIMEOUT"
  /** A credential helper succeeded but printed something that is not its protocol's JSON. */
  | "HOIST_AUTHN_HELPER_INVALID_OUTPUT"
  /** One or more keychains of a multi-keychain failed (see `failures`). */
  | "HOIST_AUTHN_KEYCHAIN_FAILED"
  /** A cloud provider's SDK or token endpoint failed (plugins). */
  | "HOIST_AUTHN_PROVIDER_FAILED"
  /** A cloud provider answered, but not with a usable token (plugins). */
  | "HOIST_AUTHN_PROVIDER_INVALID_RESPONSE"
  /** A Kubernetes pull secret is malformed (plugins). */
  | "HOIST_AUTHN_SECRET_INVALID";

export interface AuthnErrorOptions {
  code: AuthnErrorCode;
  /** What was being done, e.g. "read docker config", "resolve credentials". */
  operation: string;
  cause?: unknown;
  /** The file involved, when there is one. */
  path?: string;
  /** The registry (host or server address) involved, when there is one. */
  registry?: string;
  /** The keychain that failed, when the error comes through a multi-keychain. */
  keychain?: string;
}

const AUTHN_ERROR = Symbol.for("@hoist/authn.AuthnError");

/**
 * The one error family of @hoist/authn and its plugins. Messages quote the input and say what
 * to do; they never carry passwords, tokens or `auth` values.
 */
export class AuthnError extends Error {
  readonly code: AuthnErrorCode;
  readonly operation: string;
  readonly path?: string;
  readonly registry?: string;
  readonly keychain?: string;

  constructor(message: string, options: AuthnErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AuthnError";
    this.code = options.code;
    this.operation = options.operation;
    if (options.path !== undefined) this.path = options.path;
    if (options.registry !== undefined) this.registry = options.registry;
    if (options.keychain !== undefined) this.keychain = options.keychain;
    Object.defineProperty(this, AUTHN_ERROR, { value: true });
  }

  /** True for any AuthnError, also one thrown by another copy of this package. */
  static is(value: unknown): value is AuthnError {
    return typeof value === "object" && value !== null && AUTHN_ERROR in value;
  }
}

export type CredentialHelperAction = "get" | "store" | "erase" | "list";

export interface CredentialHelperErrorOptions extends Omit<AuthnErrorOptions, "operation"> {
  helper: string;
  action: CredentialHelperAction;
  exitCode?: number;
  stderr?: string;
  output?: string;
}

const HELPER_ERROR = Symbol.for("@hoist/authn.CredentialHelperError");

/**
 * A `docker-credential-<name>` program failed. Carries what the helper said (its stderr, and
 * its stdout on failure, where the helper protocol puts error messages), never what was sent.
 */
export class CredentialHelperError extends AuthnError {
  /** The program, e.g. "docker-credential-pass". */
  readonly helper: string;
  readonly action: CredentialHelperAction;
  readonly exitCode?: number;
  /** The helper's standard error, trimmed and capped. */
  readonly stderr: string;
  /** The helper's standard output on failure (its error message), trimmed and capped. */
  readonly output: string;

  constructor(message: string, options: CredentialHelperErrorOptions) {
    super(message, { ...options, operation: `credential helper ${options.action}` });
    this.name = "CredentialHelperError";
    this.helper = options.helper;
    this.action = options.action;
    if (options.exitCode !== undefined) this.exitCode = options.exitCode;
    this.stderr = options.stderr ?? "";
    this.output = options.output ?? "";
    Object.defineProperty(this, HELPER_ERROR, { value: true });
  }

  static override is(value: unknown): value is CredentialHelperError {
    return typeof value === "object" && value !== null && HELPER_ERROR in value;
  }
}

/** One keychain's failure inside a multi-keychain lookup. */
export interface KeychainFailure {
  readonly keychain: string;
  readonly error: unknown;
}

const MULTI_ERROR = Symbol.for("@hoist/authn.MultiKeychainError");

/** Every keychain that answered failed, or one failed and the multi-keychain stops on errors. */
export class MultiKeychainError extends AuthnError {
  readonly failures: readonly KeychainFailure[];

  constructor(
    message: string,
    options: Omit<AuthnErrorOptions, "code"> & { failures: readonly KeychainFailure[] },
  ) {
    super(message, { ...options, code: "HOIST_AUTHN_KEYCHAIN_FAILED" });
    this.name = "MultiKeychainError";
    this.failures = Object.freeze([...options.failures]);
    Object.defineProperty(this, MULTI_ERROR, { value: true });
  }

  static override is(value: unknown): value is MultiKeychainError {
    return typeof value === "object" && value !== null && MULTI_ERROR in value;
  }
}

/** A short, single-line description of any thrown value, for messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
