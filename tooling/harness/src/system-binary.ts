import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export interface FindBinaryOptions {
  /** The Debian package that provides the binary, named in the install hint. */
  debianPackage: string;
  /** Extra absolute paths to try before PATH. */
  candidates?: readonly string[];
}

/** A system program a test needs is not installed. The message says how to install it. */
export class MissingBinaryError extends Error {
  readonly code = "HOIST_HARNESS_MISSING_BINARY";
  constructor(
    readonly binary: string,
    readonly debianPackage: string,
  ) {
    const ciNote = process.env.CI
      ? " CI is set, so this is a broken CI set-up: .ci/run must install it before the tests run."
      : "";
    super(
      `${binary} is not installed, and this test runs against the real program. ` +
        `Install it with "sudo apt-get install -y ${debianPackage}" (Debian/Ubuntu) ` +
        `or put ${binary} on PATH.${ciNote}`,
    );
    this.name = "MissingBinaryError";
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable on PATH (or among the candidates), or throws {@link MissingBinaryError}. */
export function findBinary(binary: string, options: FindBinaryOptions): string {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const paths = [...(options.candidates ?? []), ...dirs.map((dir) => join(dir, binary))];
  const found = paths.find(isExecutable);
  if (!found) throw new MissingBinaryError(binary, options.debianPackage);
  return found;
}
