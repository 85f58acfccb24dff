import { createHash } from "node:crypto";
import { OciError } from "./errors.js";
import { quote } from "./quote.js";

/** The digest algorithms hoist computes and accepts. */
export type HashAlgorithm = "sha256" | "sha512";

/** Hex length of each supported algorithm's digest. */
const HEX_LENGTH: Record<HashAlgorithm, number> = { sha256: 64, sha512: 128 };

// The OCI digest grammar: algorithm components joined by separators, then an encoded part.
// Anything else (slashes, dots in the hex, "..") never becomes a Hash, so a Hash is always
// safe to use as a file name or URL path segment.
const ALGORITHM_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;
const LOWER_HEX = /^[a-f0-9]+$/;

function isAlgorithm(value: string): value is HashAlgorithm {
  return value === "sha256" || value === "sha512";
}

/**
 * A content digest, `sha256:<64 hex>` or `sha512:<128 hex>`. Instances exist only for
 * valid digests (see {@link Hash.parse}), so a Hash can be used in paths and URLs as is.
 * Serialises to its string form in `JSON.stringify`.
 */
export class Hash {
  readonly algorithm: HashAlgorithm;
  /** Lowercase hex encoding of the digest, exactly 64 (sha256) or 128 (sha512) characters. */
  readonly hex: string;

  private constructor(algorithm: HashAlgorithm, hex: string) {
    this.algorithm = algorithm;
    this.hex = hex;
    Object.freeze(this);
  }

  /**
   * Parses `algorithm:hex`. Throws {@link OciError} `HOIST_OCI_INVALID_DIGEST` for anything
   * that is not a digest, `HOIST_OCI_UNSUPPORTED_ALGORITHM` for a well-formed digest of another
   * algorithm (sha384, blake3, …).
   */
  static parse(value: string): Hash {
    const problem = Hash.#problem(value);
    if (problem !== undefined) {
      throw new OciError(`invalid digest ${quote(value)}: ${problem.message}`, {
        code: problem.code,
        operation: "parse digest",
        input: typeof value === "string" && value.length <= 200 ? value : undefined,
      });
    }
    const separator = value.indexOf(":");
    return new Hash(value.slice(0, separator) as HashAlgorithm, value.slice(separator + 1));
  }

  /** True when {@link Hash.parse} would accept the value. */
  static isValid(value: unknown): value is string {
    return typeof value === "string" && Hash.#problem(value) === undefined;
  }

  /** Hashes bytes (or the UTF-8 encoding of a string). Default algorithm: sha256. */
  static compute(data: Uint8Array | string, options: { algorithm?: HashAlgorithm } = {}): Hash {
    const algorithm = options.algorithm ?? "sha256";
    assertAlgorithm(algorithm, "compute digest");
    return new Hash(algorithm, createHash(algorithm).update(data).digest("hex"));
  }

  static #problem(
    value: string,
  ):
    | { code: "HOIST_OCI_INVALID_DIGEST" | "HOIST_OCI_UNSUPPORTED_ALGORITHM"; message: string }
    | undefined {
    if (typeof value !== "string") {
      return {
        code: "HOIST_OCI_INVALID_DIGEST",
        message: `expected a string, got ${typeof value}`,
      };
    }
    const separator = value.indexOf(":");
    if (separator <= 0) {
      return {
        code: "HOIST_OCI_INVALID_DIGEST",
        message: 'expected "algorithm:hex", for example "sha256:" followed by 64 hex characters',
      };
    }
    const algorithm = value.slice(0, separator);
    const hex = value.slice(separator + 1);
    if (!isAlgorithm(algorithm)) {
      if (ALGORITHM_GRAMMAR.test(algorithm) && /^[a-zA-Z0-9=_-]+$/.test(hex)) {
        return {
          code: "HOIST_OCI_UNSUPPORTED_ALGORITHM",
          message: `algorithm ${quote(algorithm)} is not supported; use sha256 or sha512`,
        };
      }
      return {
        code: "HOIST_OCI_INVALID_DIGEST",
        message: 'expected "sha256:" or "sha512:" followed by lowercase hex',
      };
    }
    const length = HEX_LENGTH[algorithm];
    if (hex.length !== length || !LOWER_HEX.test(hex)) {
      return {
        code: "HOIST_OCI_INVALID_DIGEST",
        message: `expected exactly ${length} lowercase hex characters after "${algorithm}:"`,
      };
    }
    return undefined;
  }

  /** `algorithm:hex`. */
  toString(): string {
    return `${this.algorithm}:${this.hex}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** Shows `Hash(sha256:…)` in console.log and test diffs. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Hash(${this.toString()})`;
  }

  /** Same algorithm and hex. A string is compared with {@link Hash.toString}. */
  equals(other: Hash | string): boolean {
    if (typeof other === "string") return other === this.toString();
    return other.algorithm === this.algorithm && other.hex === this.hex;
  }
}

/** @internal */
export function assertAlgorithm(
  algorithm: unknown,
  operation: string,
): asserts algorithm is HashAlgorithm {
  if (typeof algorithm !== "string" || !isAlgorithm(algorithm)) {
    throw new OciError(
      `unsupported digest algorithm ${quote(algorithm)}; use "sha256" or "sha512"`,
      {
        code: "HOIST_OCI_UNSUPPORTED_ALGORITHM",
        operation,
      },
    );
  }
}

/** @internal Accepts a Hash or its string form; strings are parsed (and so validated). */
export function toHash(value: Hash | string): Hash {
  return typeof value === "string" ? Hash.parse(value) : value;
}
