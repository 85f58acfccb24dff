import { NameError } from "../src/index.js";

/** Runs `fn` and returns the NameError it throws; fails the test on success or another error. */
export function nameErrorFrom(fn: () => unknown): NameError {
  try {
    fn();
  } catch (error) {
    if (NameError.is(error)) return error;
    throw error;
  }
  throw new Error("expected a NameError, but nothing was thrown");
}
