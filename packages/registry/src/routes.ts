/** The kinds of request the registry serves; fault rules select on these. */
export type RouteKind =
  | "ping"
  | "catalog"
  | "tags"
  | "manifest"
  | "blob"
  | "upload-start"
  | "upload"
  | "referrers"
  | "token"
  | "unknown";

/** A request path matched to a route, with its parameters still unvalidated. */
export type Route =
  | { kind: "ping" }
  | { kind: "catalog" }
  | { kind: "token" }
  | { kind: "unknown" }
  | { kind: "tags"; repository: string }
  | { kind: "manifest"; repository: string; reference: string }
  | { kind: "blob"; repository: string; digest: string }
  | { kind: "upload-start"; repository: string }
  | { kind: "upload"; repository: string; id: string }
  | { kind: "referrers"; repository: string; digest: string };

/** Methods each route answers; anything else gets 405 with these in `Allow`. */
export const ROUTE_METHODS: Readonly<Record<RouteKind, readonly string[]>> = {
  ping: ["GET", "HEAD"],
  catalog: ["GET"],
  token: ["GET"],
  tags: ["GET"],
  manifest: ["GET", "HEAD", "PUT", "DELETE"],
  blob: ["GET", "HEAD", "DELETE"],
  "upload-start": ["POST"],
  upload: ["GET", "PATCH", "PUT", "DELETE"],
  referrers: ["GET"],
  unknown: [],
};

// The repository name is everything before the last route keyword, so names that contain
// "blobs" or "manifests" as components still route. Uploads are tried before blobs because
// ".../blobs/uploads" would otherwise read as a blob named "uploads".
const PATTERNS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => Route]> = [
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: "upload-start", repository: m[1] ?? "" })],
  [
    /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    (m) => ({ kind: "upload", repository: m[1] ?? "", id: m[2] ?? "" }),
  ],
  [
    /^\/v2\/(.+)\/blobs\/([^/]+)$/,
    (m) => ({ kind: "blob", repository: m[1] ?? "", digest: m[2] ?? "" }),
  ],
  [
    /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    (m) => ({ kind: "manifest", repository: m[1] ?? "", reference: m[2] ?? "" }),
  ],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: "tags", repository: m[1] ?? "" })],
  [
    /^\/v2\/(.+)\/referrers\/([^/]+)$/,
    (m) => ({ kind: "referrers", repository: m[1] ?? "", digest: m[2] ?? "" }),
  ],
];

/** Matches a request path (without the query) to a route. */
export function matchRoute(pathname: string): Route {
  if (pathname === "/v2" || pathname === "/v2/") return { kind: "ping" };
  if (pathname === "/v2/_catalog") return { kind: "catalog" };
  if (pathname === "/token") return { kind: "token" };
  for (const [pattern, build] of PATTERNS) {
    const match = pattern.exec(pathname);
    if (match) return decode(build(match));
  }
  return { kind: "unknown" };
}

/**
 * Clients sometimes percent-encode the ":" of a digest, so references, digests and upload ids
 * are decoded once. Repository names are not: a name never needs escaping, and an escaped one
 * (`a%2Fb`) is refused as invalid rather than read as another repository.
 */
function decode(route: Route): Route {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(route)) {
    if (key === "kind" || key === "repository") {
      out[key] = value;
      continue;
    }
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out as unknown as Route;
}

/** The repository a route is about, if any. */
export function routeRepository(route: Route): string | undefined {
  return "repository" in route ? route.repository : undefined;
}
