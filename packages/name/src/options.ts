import { registryProblem, tagProblem } from "./check.js";
import { NameError } from "./errors.js";

/** The registry a reference without one refers to (Docker Hub). */
export const DEFAULT_REGISTRY = "index.docker.io";
/** The tag a reference without a tag or digest refers to. */
export const DEFAULT_TAG = "latest";
// Docker Hub's familiar name, rewritten to DEFAULT_REGISTRY (exact, case-sensitive match).
export const DOCKER_HUB_ALIAS = "docker.io";

export interface ParseOptions {
  /**
   * Require an explicit registry, an explicit tag (for tag references) and the full
   * `library/` path on Docker Hub. The default is weak validation, which fills these in.
   */
  strict?: boolean;
  /** Speak plain http to the registry, whatever its host. The default is false. */
  insecure?: boolean;
  /** The registry for references that name none. The default is "index.docker.io". */
  defaultRegistry?: string;
  /** The tag for references that name none. The default is "latest". */
  defaultTag?: string;
}

export interface ResolvedOptions {
  readonly strict: boolean;
  readonly insecure: boolean;
  readonly defaultRegistry: string;
  readonly defaultTag: string;
}

export const DEFAULT_OPTIONS: ResolvedOptions = Object.freeze({
  strict: false,
  insecure: false,
  defaultRegistry: DEFAULT_REGISTRY,
  defaultTag: DEFAULT_TAG,
});

function optionError(operation: string, reason: string): NameError {
  return new NameError(`Invalid options for ${operation}: ${reason}.`, {
    code: "HOIST_NAME_INVALID_OPTION",
    operation,
  });
}

function flag(value: unknown, key: string, operation: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw optionError(operation, `"${key}" must be a boolean, got ${typeof value}`);
  }
  return value;
}

/** Checks and completes the caller's options; invalid options fail before any parsing. */
export function resolveOptions(opts: ParseOptions | undefined, operation: string): ResolvedOptions {
  if (opts === undefined) return DEFAULT_OPTIONS;
  if (typeof opts !== "object" || opts === null) {
    throw optionError(
      operation,
      `options must be an object, got ${opts === null ? "null" : typeof opts}`,
    );
  }
  const strict = flag(opts.strict, "strict", operation);
  const insecure = flag(opts.insecure, "insecure", operation);
  let defaultRegistry = DEFAULT_REGISTRY;
  if (opts.defaultRegistry !== undefined) {
    if (typeof opts.defaultRegistry !== "string") {
      throw optionError(
        operation,
        `"defaultRegistry" must be a string, got ${typeof opts.defaultRegistry}`,
      );
    }
    // An empty default would yield names without a registry, which nothing can pull.
    const problem =
      opts.defaultRegistry === "" ? "the registry is empty" : registryProblem(opts.defaultRegistry);
    if (problem !== undefined) throw optionError(operation, `"defaultRegistry": ${problem}`);
    defaultRegistry = opts.defaultRegistry;
  }
  let defaultTag = DEFAULT_TAG;
  if (opts.defaultTag !== undefined) {
    if (typeof opts.defaultTag !== "string") {
      throw optionError(operation, `"defaultTag" must be a string, got ${typeof opts.defaultTag}`);
    }
    const problem = tagProblem(opts.defaultTag);
    if (problem !== undefined) throw optionError(operation, `"defaultTag": ${problem}`);
    defaultTag = opts.defaultTag;
  }
  if (!strict && !insecure && defaultRegistry === DEFAULT_REGISTRY && defaultTag === DEFAULT_TAG) {
    return DEFAULT_OPTIONS;
  }
  return { strict, insecure, defaultRegistry, defaultTag };
}
