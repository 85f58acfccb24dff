import { DEFAULT_TAG, Digest, NameError, parseReference, Tag } from "@hoist/name";
import { invalidArgument, quote } from "./errors.js";

/** A reference as callers give it: a string, or a parsed `Tag` / `Digest` from `@hoist/name`. */
export type ReferenceInput = string | Tag | Digest;

function parse(reference: ReferenceInput, operation: string): Tag | Digest {
  if (reference instanceof Tag || reference instanceof Digest) return reference;
  if (typeof reference === "object" && reference !== null && "kind" in reference) {
    // A Tag or Digest from another installed copy of @hoist/name: parse its text again.
    return parse(String(reference), operation);
  }
  if (typeof reference !== "string") {
    throw invalidArgument(
      `expected a reference string, Tag or Digest, got ${quote(reference)}`,
      operation,
    );
  }
  try {
    return parseReference(reference);
  } catch (error) {
    if (NameError.is(error)) {
      throw invalidArgument(
        `invalid reference ${quote(reference)}: ${error.message}`,
        operation,
        reference,
      );
    }
    throw error;
  }
}

/**
 * The `RepoTags` string for a reference, as go-containerregistry writes it: the tag as given,
 * with `:latest` appended when the tag was implicit (docker load needs an explicit tag). Digest
 * references give no tag: an image saved by digest is untagged in the tarball.
 */
export function repoTagOf(reference: ReferenceInput, operation: string): string | undefined {
  const parsed = parse(reference, operation);
  if (parsed.kind === "digest") return undefined;
  const text = String(parsed);
  return parsed.tag === DEFAULT_TAG && !text.endsWith(`:${DEFAULT_TAG}`)
    ? `${text}:${DEFAULT_TAG}`
    : text;
}

/** The fully qualified name tags are compared by (`index.docker.io/library/ubuntu:latest`). */
export function tagName(reference: ReferenceInput, operation: string): string {
  const parsed = parse(reference, operation);
  if (parsed.kind !== "tag") {
    throw invalidArgument(
      `${quote(String(reference))} is a digest reference; images in a tarball are found by tag`,
      operation,
      String(reference),
    );
  }
  return parsed.name;
}

/** The normalised name of a `RepoTags` entry, or undefined when it does not parse. */
export function repoTagName(repoTag: string): string | undefined {
  try {
    const parsed = parseReference(repoTag);
    return parsed.kind === "tag" ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}
