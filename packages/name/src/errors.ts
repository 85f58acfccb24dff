/**
 * The stable error codes of @hoist/name. Callers match on these, never on messages.
 *
 * - `HOIST_NAME_INVALID_REFERENCE`: the overall shape is wrong (not a string, no `@` or
 *   more than one `@` where a digest reference needs exactly one).
 * - `HOIST_NAME_INVALID_REGISTRY`: the registry part is not a valid `host[:port]`, or
 *   strict validation found no explicit registry.
 * - `HOIST_NAME_INVALID_REPOSITORY`: the repository path is empty, too long, uses characters
 *   outside `[a-z0-9_./-]`, or (strict) lacks `library/` on Docker Hub.
 * - `HOIST_NAME_INVALID_TAG`: the tag is empty, too long or uses characters outside
 *   `[A-Za-z0-9_.-]`, or (strict) is missing.
 * - `HOIST_NAME_INVALID_DIGEST`: the digest uses an algorithm other than sha256/sha512 or its
 *   hex part has the wrong length or characters.
 * - `HOIST_NAME_INVALID_OPTION`: an option such as `defaultRegistry` or `defaultTag` is itself
 *   invalid.
 */
export type NameErrorCode =
  | "HOIST_NAME_INVALID_REFERENCE"
  | "HOIST_NAME_INVALID_REGISTRY"
  | "HOIST_NAME_INVALID_REPOSITORY"
  | "HOIST_NAME_INVALID_TAG"
  | "HOIST_NAME_INVALID_DIGEST"
  | "HOIST_NAME_INVALID_OPTION";

/** Every code, for documentation and exhaustive tests. */
export const NAME_ERROR_CODES: readonly NameErrorCode[] = Object.freeze([
  "HOIST_NAME_INVALID_REFERENCE",
  "HOIST_NAME_INVALID_REGISTRY",
  "HOIST_NAME_INVALID_REPOSITORY",
  "HOIST_NAME_INVALID_TAG",
  "HOIST_NAME_INVALID_DIGEST",
  "HOIST_NAME_INVALID_OPTION",
]);

export interface NameErrorOptions {
  code: NameErrorCode;
  /** What the caller was doing, e.g. "parse reference". */
  operation: string;
  /** The string as the caller gave it (absent when the input was not a string). */
  input?: string;
  cause?: unknown;
}

// A registered symbol, so the brand survives two copies of this package in one process
// (where `instanceof` fails).
const BRAND = Symbol.for("@hoist/name.NameError");

/** The one error class of @hoist/name: every failure to parse or build a name is one. */
export class NameError extends Error {
  readonly code: NameErrorCode;
  readonly operation: string;
  readonly input: string | undefined;

  constructor(message: string, options: NameErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NameError";
    this.code = options.code;
    this.operation = options.operation;
    this.input = options.input;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True for any NameError, including one thrown by another installed copy of this package. */
  static is(value: unknown): value is NameError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [BRAND]?: unknown })[BRAND] === true
    );
  }
}

/** Same as `NameError.is`, as a plain function. */
export function isNameError(value: unknown): value is NameError {
  return NameError.is(value);
}
