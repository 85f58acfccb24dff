import {
  type Digest,
  NameError,
  parseReference,
  type Reference,
  Registry,
  Repository,
  type Tag,
} from "@hoist/name";
import { RemoteError } from "./errors.js";

/** An image reference as a parsed value from @hoist/name or as a string ("ghcr.io/a/b:v1"). */
export type ReferenceInput = Reference | string;
/** A repository as a value or a string ("ghcr.io/acme/app"); a reference stands for its repository. */
export type RepositoryInput = Repository | Reference | string;
/** A registry as a value or a string ("ghcr.io", "localhost:5000"). */
export type RegistryInput = Registry | string;

function invalid(operation: string, input: unknown, cause: unknown, what: string): RemoteError {
  const reason = NameError.is(cause) ? cause.message : String(cause);
  return new RemoteError(
    `${operation}: ${JSON.stringify(String(input).slice(0, 200))} is not a valid ${what}: ${reason}`,
    { code: "HOIST_REMOTE_INVALID_ARGUMENT", operation, cause },
  );
}

function isReference(value: unknown): value is Reference {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return (
    (kind === "tag" || kind === "digest") && (value as { repository?: unknown }).repository !== null
  );
}

export function toReference(input: ReferenceInput, operation: string): Reference {
  if (isReference(input)) return input;
  if (typeof input !== "string") {
    throw invalid(operation, input, "expected a string or a Tag/Digest", "image reference");
  }
  try {
    return parseReference(input);
  } catch (cause) {
    throw invalid(operation, input, cause, "image reference");
  }
}

/** A reference that must name a digest (`repo@sha256:...`). */
export function toDigest(input: ReferenceInput, operation: string): Digest {
  const reference = toReference(input, operation);
  if (reference.kind !== "digest") {
    throw new RemoteError(
      `${operation}: ${JSON.stringify(String(reference))} names a tag; it needs a digest reference such as "repo@sha256:<hex>"`,
      { code: "HOIST_REMOTE_INVALID_ARGUMENT", operation, reference: reference.name },
    );
  }
  return reference;
}

export function toRepository(input: RepositoryInput, operation: string): Repository {
  if (isReference(input)) return input.repository;
  if (input instanceof Repository) return input;
  if (typeof input === "object" && input !== null && "path" in input && "registry" in input) {
    return input as Repository;
  }
  if (typeof input !== "string") {
    throw invalid(operation, input, "expected a string or a Repository", "repository");
  }
  try {
    return Repository.parse(input);
  } catch (cause) {
    throw invalid(operation, input, cause, "repository");
  }
}

export function toRegistry(input: RegistryInput, operation: string): Registry {
  if (input instanceof Registry) return input;
  if (typeof input === "object" && input !== null && "host" in input && "scheme" in input) {
    return input as Registry;
  }
  if (typeof input !== "string") {
    throw invalid(operation, input, "expected a string or a Registry", "registry");
  }
  try {
    return Registry.parse(input);
  } catch (cause) {
    throw invalid(operation, input, cause, "registry");
  }
}

/** A tag in `reference`'s repository (validated). */
export function tagIn(repository: Repository, tag: string, operation: string): Tag {
  try {
    return repository.tag(tag);
  } catch (cause) {
    throw invalid(operation, tag, cause, "tag");
  }
}
