import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { apiError, type DistributionError } from "./distribution-error.js";
import { quote, RegistryError } from "./errors.js";
import { jsonResponse, type RegistryResponse } from "./response.js";
import type { Route } from "./routes.js";

/** An action on a repository (`pull`, `push`, `delete`) or `*` (the catalog). */
export type AccessAction = "pull" | "push" | "delete" | "*";

/** One access decision asked of an {@link AccessPolicy}. */
export interface AccessQuery {
  /** The authenticated user; undefined for anonymous requests. */
  user: string | undefined;
  /** `repository` for repository operations, `registry` for the catalog (name `catalog`). */
  type: "repository" | "registry";
  name: string;
  action: AccessAction;
}

/** Decides who may do what. The default lets every authenticated user do everything. */
export type AccessPolicy = (query: AccessQuery) => boolean;

/** HTTP Basic authentication against a fixed set of users. */
export interface BasicAuthOptions {
  type: "basic";
  /** user name -> password. */
  users: Readonly<Record<string, string>>;
  /** The realm in `WWW-Authenticate: Basic realm="…"`. Default "hoist-registry". */
  realm?: string;
  access?: AccessPolicy;
}

/**
 * Docker-style token authentication, with the token endpoint served by the registry itself at
 * `/token`: requests without a valid token are challenged with
 * `WWW-Authenticate: Bearer realm="<registry>/token",service="…",scope="…"`, the token endpoint
 * takes Basic credentials (or none, for an anonymous token) and grants the requested scopes the
 * access policy allows.
 */
export interface BearerAuthOptions {
  type: "bearer";
  /** user name -> password, checked by the token endpoint. Default: no users (anonymous only). */
  users?: Readonly<Record<string, string>>;
  /** The `service` named in challenges and expected by the token endpoint. Default "hoist-registry". */
  service?: string;
  /** The token endpoint URL put in challenges. Default: `/token` on the URL the client used. */
  realm?: string;
  /** How long a token is valid. Default 300 seconds. */
  tokenLifetimeSeconds?: number;
  access?: AccessPolicy;
}

export type AuthOptions = BasicAuthOptions | BearerAuthOptions;

/** What a request is allowed to do, once authenticated. */
export interface Grant {
  user: string | undefined;
  can(type: "repository" | "registry", name: string, action: AccessAction): boolean;
}

const OPEN: Grant = { user: undefined, can: () => true };

interface Needed {
  type: "repository" | "registry";
  name: string;
  actions: AccessAction[];
}

/** The access a route needs, or undefined when any authenticated client may call it. */
export function neededAccess(route: Route, method: string): Needed | undefined {
  switch (route.kind) {
    case "catalog":
      return { type: "registry", name: "catalog", actions: ["*"] };
    case "tags":
    case "referrers":
      return { type: "repository", name: route.repository, actions: ["pull"] };
    case "blob":
    case "manifest":
      if (method === "DELETE")
        return { type: "repository", name: route.repository, actions: ["delete"] };
      if (method === "PUT")
        return { type: "repository", name: route.repository, actions: ["pull", "push"] };
      return { type: "repository", name: route.repository, actions: ["pull"] };
    case "upload-start":
    case "upload":
      return { type: "repository", name: route.repository, actions: ["pull", "push"] };
    default:
      return undefined;
  }
}

export interface Authenticator {
  /** Authenticates a request for a route: a grant, or the error to answer with. */
  authorize(req: IncomingMessage, route: Route, baseUrl: string): Grant | DistributionError;
  /** Serves the token endpoint (bearer mode only). */
  token(req: IncomingMessage, url: URL): RegistryResponse;
}

const DEFAULT_POLICY: AccessPolicy = ({ user }) => user !== undefined;

export function createAuthenticator(options: AuthOptions | undefined): Authenticator {
  if (options === undefined) {
    return {
      authorize: () => OPEN,
      token: () => {
        throw apiError(404, "UNSUPPORTED", "this registry does not use token authentication");
      },
    };
  }
  validate(options);
  return options.type === "basic" ? basicAuthenticator(options) : bearerAuthenticator(options);
}

function validate(options: AuthOptions): void {
  const fail = (message: string) => {
    throw new RegistryError(message, {
      code: "HOIST_REGISTRY_INVALID_OPTION",
      operation: "configure registry auth",
    });
  };
  if (options.type !== "basic" && options.type !== "bearer") {
    fail(
      `auth.type must be "basic" or "bearer", got ${quote((options as { type?: unknown }).type)}`,
    );
  }
  const users = options.users ?? {};
  if (typeof users !== "object" || users === null)
    fail("auth.users must map user names to passwords");
  for (const [user, password] of Object.entries(users)) {
    if (user.includes(":") || user.length === 0) {
      fail(
        `auth.users has the user name ${quote(user)}; names must be non-empty and contain no ":"`,
      );
    }
    if (typeof password !== "string") fail(`auth.users[${quote(user)}] must be a password string`);
  }
  if (options.type === "bearer" && options.tokenLifetimeSeconds !== undefined) {
    const t = options.tokenLifetimeSeconds;
    if (!Number.isFinite(t) || t <= 0) {
      fail(`auth.tokenLifetimeSeconds must be a positive number of seconds, got ${quote(t)}`);
    }
  }
}

function basicCredentials(req: IncomingMessage): { user: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

function checkUser(
  users: Readonly<Record<string, string>>,
  credentials: { user: string; password: string },
): boolean {
  const known = Object.hasOwn(users, credentials.user) ? users[credentials.user] : undefined;
  return sameSecret(known ?? "\u0000no such user", credentials.password) && known !== undefined;
}

function accessDetail(needed: Needed | undefined) {
  return (
    needed?.actions.map((action) => ({ Type: needed.type, Name: needed.name, Action: action })) ??
    null
  );
}

function basicAuthenticator(options: BasicAuthOptions): Authenticator {
  const policy = options.access ?? DEFAULT_POLICY;
  const challenge = { "WWW-Authenticate": `Basic realm="${options.realm ?? "hoist-registry"}"` };
  return {
    authorize(req, route) {
      const needed = neededAccess(route, req.method ?? "GET");
      const unauthorized = (detail: unknown) =>
        apiError(401, "UNAUTHORIZED", "authentication required", detail, challenge);
      const credentials = basicCredentials(req);
      if (credentials && !checkUser(options.users, credentials))
        return unauthorized(accessDetail(needed));
      const user = credentials?.user;
      const can = (type: "repository" | "registry", name: string, action: AccessAction) =>
        policy({ user, type, name, action });
      if (route.kind === "ping" && user === undefined) return unauthorized(null);
      for (const action of needed?.actions ?? []) {
        if (!can(needed?.type ?? "repository", needed?.name ?? "", action)) {
          if (user === undefined) return unauthorized(accessDetail(needed));
          return apiError(
            403,
            "DENIED",
            `user ${quote(user)} may not ${action} ${needed?.type} ${quote(needed?.name)}`,
            accessDetail(needed),
          );
        }
      }
      return { user, can };
    },
    token() {
      throw apiError(404, "UNSUPPORTED", "this registry uses Basic authentication, not tokens");
    },
  };
}

interface TokenClaims {
  sub?: string;
  access: { type: string; name: string; actions: string[] }[];
  iat: number;
  exp: number;
}

function bearerAuthenticator(options: BearerAuthOptions): Authenticator {
  const policy = options.access ?? DEFAULT_POLICY;
  const users = options.users ?? {};
  const service = options.service ?? "hoist-registry";
  const lifetime = options.tokenLifetimeSeconds ?? 300;
  // A fresh key per registry: tokens are only ever checked by the registry that issued them.
  const key = randomBytes(32);
  const sign = (payload: string) => createHmac("sha256", key).update(payload).digest("base64url");

  const issue = (claims: TokenClaims) => {
    const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${payload}.${sign(payload)}`;
  };
  const verify = (token: string): TokenClaims | "invalid" | "expired" => {
    const [payload, signature, extra] = token.split(".");
    if (!payload || !signature || extra !== undefined || !sameSecret(sign(payload), signature)) {
      return "invalid";
    }
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as TokenClaims;
    return claims.exp * 1000 <= Date.now() ? "expired" : claims;
  };

  const challengeFor = (baseUrl: string, needed: Needed | undefined, error?: string) => {
    const parts = [`realm="${options.realm ?? `${baseUrl}/token`}"`, `service="${service}"`];
    if (needed) parts.push(`scope="${needed.type}:${needed.name}:${needed.actions.join(",")}"`);
    if (error) parts.push(`error="${error}"`);
    return { "WWW-Authenticate": `Bearer ${parts.join(",")}` };
  };

  return {
    authorize(req, route, baseUrl) {
      const needed = neededAccess(route, req.method ?? "GET");
      const header = req.headers.authorization;
      const token = header && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
      if (!token) {
        return apiError(
          401,
          "UNAUTHORIZED",
          "authentication required",
          accessDetail(needed),
          challengeFor(baseUrl, needed),
        );
      }
      const claims = verify(token);
      if (claims === "invalid" || claims === "expired") {
        return apiError(
          401,
          "UNAUTHORIZED",
          claims === "expired"
            ? "the token has expired; fetch a new one"
            : "the token is not valid here",
          accessDetail(needed),
          challengeFor(baseUrl, needed, "invalid_token"),
        );
      }
      const can = (type: "repository" | "registry", name: string, action: AccessAction) =>
        claims.access.some(
          (a) =>
            a.type === type &&
            a.name === name &&
            (a.actions.includes(action) || a.actions.includes("*")),
        );
      for (const action of needed?.actions ?? []) {
        if (!can(needed?.type ?? "repository", needed?.name ?? "", action)) {
          return apiError(
            401,
            "UNAUTHORIZED",
            `the token does not grant ${needed?.type}:${needed?.name}:${action}`,
            accessDetail(needed),
            challengeFor(baseUrl, needed, "insufficient_scope"),
          );
        }
      }
      return { user: claims.sub, can };
    },

    token(req, url) {
      const credentials = basicCredentials(req);
      if (credentials && !checkUser(users, credentials)) {
        throw apiError(401, "UNAUTHORIZED", "the user name or password is wrong", null, {
          "WWW-Authenticate": `Basic realm="${service}"`,
        });
      }
      const requestedService = url.searchParams.get("service");
      if (requestedService !== null && requestedService !== service) {
        throw apiError(
          400,
          "UNSUPPORTED",
          `this token endpoint serves ${quote(service)}, not ${quote(requestedService)}`,
        );
      }
      const user = credentials?.user;
      const access: TokenClaims["access"] = [];
      for (const scope of url.searchParams.getAll("scope").flatMap((s) => s.split(" "))) {
        const parsed = parseScope(scope);
        if (!parsed) continue;
        const granted = parsed.actions.filter((action) =>
          policy({ user, type: parsed.type, name: parsed.name, action }),
        );
        if (granted.length > 0)
          access.push({ type: parsed.type, name: parsed.name, actions: granted });
      }
      const iat = Math.floor(Date.now() / 1000);
      const token = issue({ sub: user, access, iat, exp: iat + lifetime });
      return jsonResponse(200, {
        token,
        access_token: token,
        expires_in: lifetime,
        issued_at: new Date(iat * 1000).toISOString(),
      });
    },
  };
}

/** `repository:name:pull,push` or `registry:catalog:*`; anything else is ignored. */
function parseScope(
  scope: string,
): { type: "repository" | "registry"; name: string; actions: AccessAction[] } | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last === first) return undefined;
  const type = scope.slice(0, first);
  if (type !== "repository" && type !== "registry") return undefined;
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((a): a is AccessAction => a === "pull" || a === "push" || a === "delete" || a === "*");
  return { type, name: scope.slice(first + 1, last), actions };
}
