import {
  type Credential,
  isRepositoryResource,
  type Resource,
  resourceRegistryHost,
} from "@hoist/authn";
import type { PullSecretEntry } from "./pull-secrets.js";

const HUB_ALIASES = new Set(["docker.io", "registry-1.docker.io", "index.docker.io"]);

interface ParsedKey {
  labels: string[];
  port: string;
  path: string;
}

/**
 * A secret key or an image as the kubelet sees it: scheme dropped, host split into labels and
 * port, and a leading "/v1" or "/v2" dropped from the path. Docker Hub's names become
 * "index.docker.io", the host hoist (and the kubelet's default-registry rule) use.
 */
function parseKey(key: string): ParsedKey {
  let rest = key.replace(/^https?:\/\//i, "");
  const slash = rest.indexOf("/");
  let hostPort = slash >= 0 ? rest.slice(0, slash) : rest;
  rest = slash >= 0 ? rest.slice(slash) : "";
  let path = rest.replace(/^\/v[12](?=\/)/, "");
  if (path === "/") path = "";
  let port = "";
  const portMatch = /^(.*):(\d+)$/.exec(hostPort);
  if (portMatch && !hostPort.endsWith("]")) {
    hostPort = portMatch[1] as string;
    port = portMatch[2] as string;
  }
  let host = hostPort.toLowerCase();
  if (HUB_ALIASES.has(host)) host = "index.docker.io";
  return { labels: host.split("."), port, path };
}

/** Go's filepath.Match for one host label: *, ? and [classes]. */
function labelPattern(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) {
        source += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith("^")) body = `^${body.slice(1).replace(/[\\\]]/g, "\\$&")}`;
      else body = body.replace(/[\\\]^]/g, "\\$&");
      source += `[${body}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "i");
}

/**
 * The kubelet's rule: same port, same number of host labels, each label matching its glob
 * ("*.registry.io"), and the key's path a plain string prefix of the image's path (so "/par"
 * matches "/partial", as in the kubelet).
 */
export function keyMatches(key: string, image: string): boolean {
  const glob = parseKey(key);
  const target = parseKey(image);
  if (glob.port !== target.port) return false;
  if (glob.labels.length !== target.labels.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return glob.labels.every((label, i) => labelPattern(label).test(target.labels[i] as string));
}

/** The image string the kubelet would match a resource by: "host/path" or "host". */
export function resourceImage(resource: Resource): string {
  const host = resourceRegistryHost(resource);
  return isRepositoryResource(resource) && resource.path ? `${host}/${resource.path}` : host;
}

/** The normalized key the kubelet indexes an entry by ("host[:port][/path]"). */
function indexKey(key: string): string {
  const parsed = parseKey(key);
  return `${parsed.labels.join(".")}${parsed.port ? `:${parsed.port}` : ""}${parsed.path}`;
}

/**
 * The credential for a resource among pull-secret entries: keys are normalized and sorted in
 * reverse lexical order (so "quay.io/team" is tried before "quay.io"), the first key that
 * matches wins, and among entries with the same key the first secret wins.
 */
export function matchPullSecret(
  entries: readonly PullSecretEntry[],
  resource: Resource,
): { entry: PullSecretEntry; credential: Credential } | undefined {
  const byKey = new Map<string, PullSecretEntry>();
  for (const entry of entries) {
    const key = indexKey(entry.key);
    if (!byKey.has(key)) byKey.set(key, entry);
  }
  const image = resourceImage(resource);
  const keys = [...byKey.keys()].sort().reverse();
  for (const key of keys) {
    if (keyMatches(key, image)) {
      const entry = byKey.get(key) as PullSecretEntry;
      return { entry, credential: entry.credential };
    }
  }
  return undefined;
}
