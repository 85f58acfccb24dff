// The distribution spec's grammar for repository names and tags. The registry checks names
// against it before a name is ever used as a storage key or file path, which is what makes
// path traversal impossible: no component can be empty, "." or "..".

// One path component: lowercase alphanumerics joined by ".", "_", "__" or runs of "-".
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Longest repository name accepted (distribution's limit). */
export const MAX_REPOSITORY_LENGTH = 255;

/** Why `name` is not a valid repository name, or undefined when it is. */
export function repositoryNameProblem(name: string): string | undefined {
  if (name.length === 0) return "the repository name is empty";
  if (name.length > MAX_REPOSITORY_LENGTH) {
    return `the repository name is ${name.length} characters long; at most ${MAX_REPOSITORY_LENGTH} are allowed`;
  }
  for (const component of name.split("/")) {
    if (!COMPONENT.test(component)) {
      return (
        `the path component ${JSON.stringify(component)} is not allowed; components are ` +
        'lowercase letters and digits, separated by ".", "_", "__" or "-"'
      );
    }
  }
  return undefined;
}

/** True for a tag the spec allows: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
