// Repository names and tags as the registry accepts them. @hoist/name checks characters and
// lengths (go-containerregistry's rules); the distribution spec adds a grammar on top, which
// a registry must enforce: each path component is lowercase alphanumerics joined by ".", "_",
// "__" or runs of "-", and a tag starts with a letter, digit or "_". Names are checked before
// they are ever used as storage keys or file paths, so no component can be "." or "..".

import { NameError, Registry } from "@hoist/name";

// Any host that is not Docker Hub, so that no "library/" is added to one-component paths.
const HOST = Registry.parse("registry.invalid");
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG_START = /^[A-Za-z0-9_]/;

function nameProblem(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (NameError.is(error)) return error.message;
    throw error;
  }
}

/** Why `name` is not a valid repository name, or undefined when it is. */
export function repositoryNameProblem(name: string): string | undefined {
  const problem = nameProblem(() => HOST.repository(name));
  if (problem !== undefined) return problem;
  for (const component of name.split("/")) {
    if (!COMPONENT.test(component)) {
      return (
        `Invalid repository ${JSON.stringify(name)}: the path component ${JSON.stringify(component)} ` +
        'must be lowercase letters and digits separated by ".", "_", "__" or "-"'
      );
    }
  }
  return undefined;
}

/** True for a tag the spec allows: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  return TAG_START.test(tag) && nameProblem(() => HOST.repository("x").tag(tag)) === undefined;
}
