import { Hash } from "@hoist/oci";
import { apiError } from "./distribution-error.js";
import { quote } from "./errors.js";

/**
 * Parses a digest from a URL path or query, answering 400 DIGEST_INVALID for anything that is
 * not a sha256 or sha512 digest (as distribution does for blob paths and upload digests).
 */
export function digestParam(text: string | null | undefined, what = "digest"): Hash {
  if (text === null || text === undefined || text === "") {
    throw apiError(
      400,
      "DIGEST_INVALID",
      `the ${what} is missing; add ?digest=<algorithm>:<hex>`,
      "digest missing",
    );
  }
  try {
    return Hash.parse(text);
  } catch (error) {
    throw apiError(
      400,
      "DIGEST_INVALID",
      `the ${what} ${quote(text)} is not valid: ${(error as Error).message}`,
      { digest: text.slice(0, 200) },
    );
  }
}
