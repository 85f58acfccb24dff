import { expect } from "vitest";
import { OciError } from "../src/errors.js";

/** Awaits a promise that must reject with an OciError (any copy's), and returns the error. */
export async function ociFailure(promise: Promise<unknown>): Promise<OciError> {
  try {
    await promise;
  } catch (error) {
    expect(OciError.is(error), `expected an OciError, got ${String(error)}`).toBe(true);
    return error as OciError;
  }
  throw new Error("expected a rejection with an OciError, but the promise resolved");
}
