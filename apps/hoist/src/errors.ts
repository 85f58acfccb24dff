const BRAND = Symbol.for("hoist.cli.error");

export const CLI_ERROR_CODES = [
  "HOIST_CLI_USAGE",
  "HOIST_CLI_INVALID_ARGUMENT",
  "HOIST_CLI_NOT_FOUND",
  "HOIST_CLI_CLOBBER",
  "HOIST_CLI_UNSUPPORTED",
  "HOIST_CLI_VALIDATION_FAILED",
  "HOIST_CLI_IO",
] as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

export interface CliErrorOptions {
  code: CliErrorCode;
  /** What the command was doing, e.g. "push". */
  operation: string;
  input?: string;
  cause?: unknown;
  /** The exit status; 1 unless said otherwise. */
  exitCode?: number;
}

/** A failure of the command line itself: bad flags, a missing file, a refused overwrite. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly operation: string;
  readonly input: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: CliErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.code = options.code;
    this.operation = options.operation;
    this.input = options.input;
    this.exitCode = options.exitCode ?? 1;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(value: unknown): value is CliError {
    return typeof value === "object" && value !== null && BRAND in value;
  }
}

export function usageError(message: string, operation: string): CliError {
  return new CliError(message, { code: "HOIST_CLI_USAGE", operation });
}

/**
 * Wraps a library failure with what the command was doing ("pulling x: …"), as crane's
 * `fmt.Errorf("pulling %s: %w")` does, keeping the original as the cause for `--verbose`.
 */
export function context(prefix: string, error: unknown): Error {
  if (
    typeof error === "object" &&
    error !== null &&
    (error as { name?: string }).name === "AbortError"
  ) {
    return error as Error;
  }
  const wrapped = new Error(`${prefix}: ${messageOf(error)}`, { cause: error });
  return wrapped;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
