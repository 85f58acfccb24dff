import { NameError, type NameErrorCode } from "./errors.js";
import { quote } from "./text.js";

/**
 * Proves that a constructor call comes from this package, after validation. The classes are
 * immutable values that are only valid when built by a parser, so direct `new` is refused.
 */
export const INTERNAL: unique symbol = Symbol("@hoist/name internal");

export function refuseDirectConstruction(token: unknown, className: string, how: string): void {
  if (token !== INTERNAL) {
    throw new TypeError(`${className} cannot be constructed directly; use ${how}`);
  }
}

/** What a parse is doing, for error messages: "Invalid <subject> "<input>": <reason>." */
export interface ParseContext {
  readonly operation: string;
  readonly subject: string;
  readonly input: string;
}

export function fail(ctx: ParseContext, code: NameErrorCode, reason: string): never {
  throw new NameError(`Invalid ${ctx.subject} ${quote(ctx.input)}: ${reason}.`, {
    code,
    operation: ctx.operation,
    input: ctx.input,
  });
}

/** Refuses non-string input from JavaScript callers with the same error class. */
export function requireString(
  value: unknown,
  operation: string,
  subject: string,
  code: NameErrorCode,
): asserts value is string {
  if (typeof value !== "string") {
    const got = value === null ? "null" : typeof value;
    throw new NameError(`Invalid ${subject}: expected a string, got ${got}.`, {
      code,
      operation,
    });
  }
}
