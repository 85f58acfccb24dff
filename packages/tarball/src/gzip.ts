import type { Duplex } from "node:stream";
import { createGunzipStream } from "@hoist/oci";
import { TarballError } from "./errors.js";

/** @internal A gunzip stage whose failures are `HOIST_TARBALL_DECOMPRESS_FAILED`. */
export function gunzipStage(subject: string, operation: string): Duplex {
  return createGunzipStream({
    operation,
    subject,
    // A tarball's layers fail as tarball errors; oci's message and zlib's cause are kept.
    translateError: (error) =>
      new TarballError(error.message, {
        code: "HOIST_TARBALL_DECOMPRESS_FAILED",
        operation,
        cause: error.cause,
      }),
  });
}

/** @internal The error for zstd layers. */
export function zstdUnsupported(subject: string, operation: string): TarballError {
  return new TarballError(
    `${subject} is zstd-compressed and hoist cannot decompress zstd; use a gzip or uncompressed layer`,
    { code: "HOIST_TARBALL_UNSUPPORTED_COMPRESSION", operation },
  );
}
