/**
 * Token scopes ("repository:library/ubuntu:pull,push", "registry:catalog:*"). Scopes for the
 * same resource are merged into one entry so a token request names each resource once.
 */

interface ParsedScope {
  resource: string;
  actions: string[];
}

function parseScope(scope: string): ParsedScope | undefined {
  const last = scope.lastIndexOf(":");
  const first = scope.indexOf(":");
  // type:name:actions; anything else is passed through untouched.
  if (first <= 0 || last <= first + 1 || last === scope.length - 1) return undefined;
  return {
    resource: scope.slice(0, last),
    actions: scope
      .slice(last + 1)
      .split(",")
      .filter(Boolean),
  };
}

const ACTION_ORDER = ["pull", "push", "delete", "*"];

/** A fixed action order, so the same grant is always spelled the same way (registries vary). */
function sortActions(actions: readonly string[]): string[] {
  const rank = (action: string) => {
    const index = ACTION_ORDER.indexOf(action);
    return index < 0 ? ACTION_ORDER.length : index;
  };
  return [...actions].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Merges scope lists in order: the first mention of a resource fixes its position, later
 * mentions add actions. With `prepend`, the incoming scopes go first, because some registries
 * read only the first scope of a token request.
 */
export function mergeScopes(
  existing: readonly string[],
  incoming: readonly string[],
  options: { prepend?: boolean } = {},
): string[] {
  const ordered = options.prepend ? [...incoming, ...existing] : [...existing, ...incoming];
  const resources = new Map<string, string[]>();
  const opaque = new Set<string>();
  const order: Array<{ kind: "resource" | "opaque"; key: string }> = [];
  for (const scope of ordered) {
    const trimmed = scope.trim();
    if (!trimmed) continue;
    const parsed = parseScope(trimmed);
    if (!parsed) {
      if (!opaque.has(trimmed)) {
        opaque.add(trimmed);
        order.push({ kind: "opaque", key: trimmed });
      }
      continue;
    }
    const actions = resources.get(parsed.resource);
    if (!actions) {
      resources.set(parsed.resource, [...new Set(parsed.actions)]);
      order.push({ kind: "resource", key: parsed.resource });
    } else {
      for (const action of parsed.actions) if (!actions.includes(action)) actions.push(action);
    }
  }
  return order.map(({ kind, key }) =>
    kind === "opaque" ? key : `${key}:${sortActions(resources.get(key) ?? []).join(",")}`,
  );
}

/** An order-independent key for a scope set (for token caching). */
export function scopeKey(scopes: readonly string[]): string {
  return mergeScopes(scopes, [])
    .map((scope) => {
      const parsed = parseScope(scope);
      return parsed ? `${parsed.resource}:${[...parsed.actions].sort().join(",")}` : scope;
    })
    .sort()
    .join(" ");
}
