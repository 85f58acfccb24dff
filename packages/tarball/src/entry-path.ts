import { quote, TarballError } from "./errors.js";

// Names inside archives are untrusted. Every name hoist uses is cleaned lexically here (as Go's
// path.Clean does, but always relative) and refused when it could land outside the directory an
// archive is extracted into: absolute names, ".." that climbs above the root, Windows drive
// letters and backslash tricks (a backslash is a separator on Windows hosts), and NUL bytes.

/** What is wrong with a name, or undefined when it is safe. */
type Problem = string | undefined;

function segments(name: string, separators: RegExp): string[] | undefined {
  const out: string[] = [];
  for (const segment of name.split(separators)) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(segment);
    }
  }
  return out;
}

function hasDrivePrefix(name: string): boolean {
  return /^[A-Za-z]:/.test(name);
}

function problemOf(name: string): Problem {
  if (name.includes("\0")) return "contains a NUL byte";
  if (name.startsWith("/")) return "is absolute";
  if (name.startsWith("\\") || hasDrivePrefix(name)) return "is a Windows absolute path";
  // Both readings must stay inside: "/" only (Linux) and "/" or "\" (Windows).
  if (!climbsInside(name)) return "climbs above the root with ..";
  // And so must the cleaned name hoist goes on to use: cleaning reads "/" only, so it can join
  // segments a Windows reading kept apart ("a/ \ /../..\.." cleans to "a/..\..").
  if (!climbsInside(cleanPath(name))) return "climbs above the root with .. once cleaned";
  return undefined;
}

function climbsInside(name: string): boolean {
  return segments(name, /\//) !== undefined && segments(name, /[\\/]/) !== undefined;
}

/**
 * Cleans a relative path lexically: "./a//b/../c/" becomes "a/c"; the root is ".". Does not
 * check safety: a name that climbs above the root keeps its leading ".." segments.
 */
export function cleanPath(name: string): string {
  const out: string[] = [];
  let climbs = 0;
  for (const segment of name.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0) out.pop();
      else climbs++;
    } else {
      out.push(segment);
    }
  }
  const parts = [...Array<string>(climbs).fill(".."), ...out];
  return parts.length === 0 ? "." : parts.join("/");
}

/** True when `name` is relative and stays inside the root however it is read. */
export function isSafeEntryName(name: string): boolean {
  return problemOf(name) === undefined;
}

/**
 * The cleaned form of an archive member name, or `HOIST_TARBALL_UNSAFE_PATH` when the name is
 * absolute, climbs above the root, or carries a NUL byte or a Windows drive.
 */
export function safeEntryName(name: string, operation: string, what = "entry"): string {
  const problem = problemOf(name);
  if (problem) {
    throw new TarballError(
      `refusing ${what} ${quote(name)}: it ${problem}, so it could be written outside the target directory`,
      { code: "HOIST_TARBALL_UNSAFE_PATH", operation, input: name },
    );
  }
  return cleanPath(name);
}

/** The directory part of a cleaned path ("." for top-level names). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "." : path.slice(0, slash);
}

/** The last segment of a cleaned path. */
export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Joins a cleaned directory and a name and cleans the result. */
export function joinPath(directory: string, name: string): string {
  return cleanPath(directory === "." ? name : `${directory}/${name}`);
}

/** The ancestors of a cleaned path, nearest first, without "." (`a/b/c` gives `a/b`, `a`). */
export function* ancestorsOf(path: string): Generator<string> {
  let current = path;
  for (;;) {
    const parent = parentOf(current);
    if (parent === "." || parent === current) return;
    yield parent;
    current = parent;
  }
}

/**
 * Where a relative symlink at `entry` points, cleaned and relative to the root, or undefined
 * when it climbs above the root. Absolute targets are returned as given: inside an image they
 * are resolved against the image's own root, so they cannot escape it.
 */
export function symlinkTarget(entry: string, linkname: string): string | undefined {
  if (linkname.startsWith("/")) return linkname;
  const joined = joinPath(parentOf(entry), linkname);
  if (joined === ".." || joined.startsWith("../")) return undefined;
  if (problemOf(`${parentOf(entry)}/${linkname}`.replace(/^\.\//, ""))) return undefined;
  return joined;
}
