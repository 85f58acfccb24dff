import { type Authenticator, anonymous } from "./credential.js";
import { describeError, type KeychainFailure, MultiKeychainError } from "./errors.js";
import type { Keychain, ResolveOptions } from "./keychain.js";
import { type Resource, resourceKey } from "./resource.js";

export interface MultiKeychainOptions {
  /**
   * Stop at the first keychain that fails, throwing its error (wrapped with the keychain's
   * name), as ggcr's NewMultiKeychain does. Default false: a failure is reported and later
   * keychains still get their turn.
   */
  stopOnError?: boolean;
  /**
   * Called for every keychain failure, including ones a later keychain's answer makes
   * harmless. This is how callers see (log, count) errors that did not fail the lookup.
   */
  onError?: (failure: KeychainFailure, resource: Resource) => void;
  /** Shown in error reports. Default "multi(<names>)". */
  name?: string;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return (
    signal?.aborted === true &&
    (error === signal.reason || (error instanceof Error && error.name === "AbortError"))
  );
}

/**
 * Tries keychains in order; the first non-anonymous answer wins. A keychain that throws does
 * not hide later keychains' answers (unless `stopOnError`): its failure goes to `onError`, and
 * if no keychain has credentials the lookup throws a {@link MultiKeychainError} listing every
 * failure, instead of quietly going anonymous.
 */
export function multiKeychain(
  keychains: Iterable<Keychain>,
  options: MultiKeychainOptions = {},
): Keychain {
  const list = Object.freeze([...keychains]);
  return Object.freeze({
    name: options.name ?? `multi(${list.map((k) => k.name).join(", ")})`,
    async resolve(resource: Resource, call: ResolveOptions = {}): Promise<Authenticator> {
      const failures: KeychainFailure[] = [];
      for (const keychain of list) {
        call.signal?.throwIfAborted();
        let answer: Authenticator;
        try {
          answer = await keychain.resolve(resource, call);
        } catch (error) {
          if (isAbort(error, call.signal)) throw error;
          const failure: KeychainFailure = Object.freeze({ keychain: keychain.name, error });
          failures.push(failure);
          options.onError?.(failure, resource);
          if (options.stopOnError) {
            throw new MultiKeychainError(
              `keychain "${keychain.name}" failed for "${resourceKey(resource)}": ${describeError(error)}`,
              { operation: "resolve credentials", keychain: keychain.name, failures, cause: error },
            );
          }
          continue;
        }
        if (answer !== anonymous) return answer;
      }
      if (failures.length > 0) {
        const summary = failures.map((f) => `${f.keychain}: ${describeError(f.error)}`).join("; ");
        throw new MultiKeychainError(
          `no keychain had credentials for "${resourceKey(resource)}" and ${failures.length === 1 ? "one" : failures.length} failed (${summary}). Fix the failing source, or remove it from the keychain list.`,
          {
            operation: "resolve credentials",
            failures,
            cause:
              failures.length === 1
                ? failures[0]?.error
                : new AggregateError(failures.map((f) => f.error)),
            ...(failures.length === 1 && failures[0] ? { keychain: failures[0].keychain } : {}),
          },
        );
      }
      return anonymous;
    },
  });
}
