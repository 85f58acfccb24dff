import { createSign, createVerify, randomBytes, randomUUID, X509Certificate } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createCertificate, type TestCertificate } from "./certificates.js";

/** What a user (or anonymous) may do: repositories matching `name` ("*" is a wildcard). */
export interface AccessRule {
  /** Resource type; default "repository". */
  type?: string;
  /** Resource name pattern, e.g. "team/*" or "*". */
  name: string;
  /** Allowed actions, e.g. ["pull"], ["pull", "push"], or ["*"]. */
  actions: readonly string[];
}

export interface TokenServerUser {
  password: string;
  access?: readonly AccessRule[];
}

export interface TokenServerOptions {
  users?: Record<string, TokenServerUser>;
  /** What requests without credentials may do. Default: nothing (they still get a token). */
  anonymous?: readonly AccessRule[];
  /** The `service` the registry names in its challenge. Default "hoist-registry". */
  service?: string;
  /** JWT issuer the registry trusts. Default "hoist-token-server". */
  issuer?: string;
  /** `expires_in` sent with each token. Default 300. */
  expiresInSeconds?: number;
  /**
   * The JWT's real lifetime (its `exp`), when a test wants it to differ from `expires_in`,
   * e.g. 1 to make the registry refuse a token the client still believes valid.
   */
  jwtLifetimeSeconds?: number;
  /** Serve the OAuth2 POST endpoint. With false, POST answers 404 (as some registries do). */
  oauth?: boolean;
  /** Which field carries the token. Default "both" (distribution sends both). */
  tokenField?: "token" | "access_token" | "both";
  /** Issue a new refresh token with every refresh grant. Default false. */
  rotateRefreshTokens?: boolean;
}

export interface GrantedAccess {
  type: string;
  name: string;
  actions: string[];
}

/** One token request as the server saw it. Passwords and tokens are not recorded. */
export interface TokenRequestRecord {
  method: string;
  grantType: "anonymous" | "basic" | "password" | "refresh_token" | "invalid";
  account: string | undefined;
  service: string;
  scopes: string[];
  granted: GrantedAccess[];
  status: number;
  clientId: string | undefined;
  /** Whether the request carried an Authorization header. */
  authorization: boolean;
  /** Whether a refresh token was issued. */
  issuedRefreshToken: boolean;
}

export interface RunningTokenServer {
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  /** The realm to put in the registry's config: `${url}/token`. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM file with the signing certificate: the registry's `rootcertbundle`. */
  readonly certificatePath: string;
  /** The `auth` section for docker-registry: `{ token: { realm, service, issuer, rootcertbundle } }`. */
  registryAuthConfig(): Record<string, unknown>;
  /** Every request so far, oldest first. */
  requests(): TokenRequestRecord[];
  clearRequests(): void;
  /** Mints a refresh token (an identity token) for a user without a request. */
  issueRefreshToken(username: string): string;
  revokeRefreshTokens(): void;
  /** Changes behaviour for later requests (expiry, oauth, token field). */
  configure(changes: Partial<Omit<TokenServerOptions, "users" | "anonymous">>): void;
  /** Verifies a token this server issued: signature, issuer and expiry. Claims or undefined. */
  verify(token: string): Record<string, unknown> | undefined;
  stop(): Promise<void>;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

function parseScope(scope: string): GrantedAccess | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first <= 0 || last <= first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(",")
      .filter(Boolean),
  };
}

/** Grants the requested actions the rules allow (a subset, as distribution's token servers do). */
function grant(scopes: string[], rules: readonly AccessRule[]): GrantedAccess[] {
  const granted: GrantedAccess[] = [];
  for (const scope of scopes) {
    const wanted = parseScope(scope);
    if (!wanted) continue;
    const allowed = new Set<string>();
    for (const rule of rules) {
      if ((rule.type ?? "repository") !== wanted.type) continue;
      if (!globToRegExp(rule.name).test(wanted.name)) continue;
      for (const action of rule.actions) allowed.add(action);
    }
    const actions = wanted.actions.filter((a) => allowed.has("*") || allowed.has(a));
    const existing = granted.find((g) => g.type === wanted.type && g.name === wanted.name);
    if (existing) {
      for (const a of actions) if (!existing.actions.includes(a)) existing.actions.push(a);
    } else {
      granted.push({ type: wanted.type, name: wanted.name, actions });
    }
  }
  return granted;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > 64 * 1024) req.destroy();
    });
    req.on("end", () => resolve(body));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * A Docker-style token server on loopback: Basic GET, OAuth2 POST (password and refresh_token
 * grants), per-user access rules, refresh tokens and a request log. Tokens are RS256 JWTs with
 * the signing certificate in `x5c`, so a real docker-registry configured with
 * `registryAuthConfig()` accepts them.
 */
export async function startTokenServer(
  options: TokenServerOptions = {},
): Promise<RunningTokenServer> {
  const settings = {
    service: options.service ?? "hoist-registry",
    issuer: options.issuer ?? "hoist-token-server",
    expiresInSeconds: options.expiresInSeconds ?? 300,
    jwtLifetimeSeconds: options.jwtLifetimeSeconds as number | undefined,
    oauth: options.oauth ?? true,
    tokenField: options.tokenField ?? "both",
    rotateRefreshTokens: options.rotateRefreshTokens ?? false,
  };
  const users = options.users ?? {};
  const anonymousRules = options.anonymous ?? [];
  const certificate: TestCertificate = createCertificate({ commonName: settings.issuer, ca: true });
  const x5c = new X509Certificate(certificate.certificatePem).raw.toString("base64");
  const refreshTokens = new Map<string, string>();
  const log: TokenRequestRecord[] = [];

  const sign = (account: string, access: GrantedAccess[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [x5c] };
    const claims = {
      iss: settings.issuer,
      sub: account,
      aud: settings.service,
      exp: now + (settings.jwtLifetimeSeconds ?? settings.expiresInSeconds),
      nbf: now - 5,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
    const signer = createSign("RSA-SHA256");
    signer.update(input);
    return `${input}.${signer.sign(certificate.keyPem).toString("base64url")}`;
  };

  const newRefreshToken = (account: string) => {
    const token = randomBytes(24).toString("hex");
    refreshTokens.set(token, account);
    return token;
  };

  const issue = (
    res: ServerResponse,
    account: string,
    scopes: string[],
    refresh: string | undefined,
  ) => {
    const rules = account ? (users[account]?.access ?? []) : anonymousRules;
    const granted = grant(scopes, rules);
    const token = sign(account, granted);
    const body: Record<string, unknown> = {
      expires_in: settings.expiresInSeconds,
      issued_at: new Date().toISOString(),
    };
    if (settings.tokenField !== "access_token") body.token = token;
    if (settings.tokenField !== "token") body.access_token = token;
    if (refresh) body.refresh_token = refresh;
    send(res, 200, body);
    return granted;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://token.invalid");
    const record: TokenRequestRecord = {
      method: req.method ?? "",
      grantType: "invalid",
      account: undefined,
      service: "",
      scopes: [],
      granted: [],
      status: 0,
      clientId: undefined,
      authorization: req.headers.authorization !== undefined,
      issuedRefreshToken: false,
    };
    log.push(record);
    const reply = (status: number, body: unknown) => {
      record.status = status;
      send(res, status, body);
    };
    if (url.pathname !== "/token")
      return reply(404, { errors: [{ code: "NOT_FOUND", message: "no such endpoint" }] });

    if (req.method === "GET") {
      record.service = url.searchParams.get("service") ?? "";
      record.scopes = url.searchParams
        .getAll("scope")
        .flatMap((s) => s.split(" "))
        .filter(Boolean);
      record.clientId = url.searchParams.get("client_id") ?? undefined;
      let account = "";
      const auth = req.headers.authorization;
      if (auth) {
        const match = /^Basic\s+(.+)$/i.exec(auth);
        const decoded = match?.[1] ? Buffer.from(match[1], "base64").toString("utf8") : "";
        const colon = decoded.indexOf(":");
        const username = colon >= 0 ? decoded.slice(0, colon) : "";
        const password = colon >= 0 ? decoded.slice(colon + 1) : "";
        record.grantType = "basic";
        record.account = username;
        if (!username || users[username]?.password !== password) {
          res.setHeader("www-authenticate", 'Basic realm="hoist-token-server"');
          return reply(401, {
            errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }],
          });
        }
        account = username;
      } else {
        record.grantType = "anonymous";
      }
      const offline = url.searchParams.get("offline_token") === "true" && account !== "";
      const refresh = offline ? newRefreshToken(account) : undefined;
      record.issuedRefreshToken = refresh !== undefined;
      record.granted = issue(res, account, record.scopes, refresh);
      record.status = 200;
      return;
    }

    if (req.method === "POST") {
      if (!settings.oauth)
        return reply(404, {
          errors: [{ code: "NOT_FOUND", message: "OAuth2 is not served here" }],
        });
      const form = new URLSearchParams(await readBody(req));
      record.service = form.get("service") ?? "";
      record.scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      record.clientId = form.get("client_id") ?? undefined;
      if (!record.clientId)
        return reply(400, { error: "invalid_request", error_description: "client_id is required" });
      const grantType = form.get("grant_type");
      let account: string;
      let refresh: string | undefined;
      if (grantType === "password") {
        record.grantType = "password";
        const username = form.get("username") ?? "";
        record.account = username;
        if (!username || users[username]?.password !== form.get("password")) {
          return reply(401, {
            error: "invalid_grant",
            error_description: "invalid username or password",
          });
        }
        account = username;
        if (form.get("access_type") === "offline") refresh = newRefreshToken(account);
      } else if (grantType === "refresh_token") {
        record.grantType = "refresh_token";
        const presented = form.get("refresh_token") ?? "";
        const owner = refreshTokens.get(presented);
        if (owner === undefined)
          return reply(400, { error: "invalid_grant", error_description: "unknown refresh token" });
        record.account = owner;
        account = owner;
        if (settings.rotateRefreshTokens) {
          refreshTokens.delete(presented);
          refresh = newRefreshToken(account);
        }
      } else {
        return reply(400, {
          error: "unsupported_grant_type",
          error_description: `grant_type ${grantType ?? "(none)"} is not supported`,
        });
      }
      record.issuedRefreshToken = refresh !== undefined;
      record.granted = issue(res, account, record.scopes, refresh);
      record.status = 200;
      return;
    }
    return reply(405, { errors: [{ code: "UNSUPPORTED", message: "method not allowed" }] });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        send(res, 500, { errors: [{ code: "UNKNOWN", message: "token server failed" }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    realm: `${url}/token`,
    get service() {
      return settings.service;
    },
    get issuer() {
      return settings.issuer;
    },
    certificatePath: certificate.certificatePath,
    registryAuthConfig: () => ({
      token: {
        realm: `${url}/token`,
        service: settings.service,
        issuer: settings.issuer,
        rootcertbundle: certificate.certificatePath,
      },
    }),
    requests: () => log.map((entry) => ({ ...entry })),
    clearRequests: () => {
      log.length = 0;
    },
    issueRefreshToken: (username) => {
      if (!users[username]) throw new Error(`token server has no user "${username}"`);
      return newRefreshToken(username);
    },
    revokeRefreshTokens: () => refreshTokens.clear(),
    configure(changes) {
      for (const [key, value] of Object.entries(changes)) {
        // jwtLifetimeSeconds: undefined means "same as expires_in" again; other keys need a value.
        if (value !== undefined || key === "jwtLifetimeSeconds") {
          (settings as Record<string, unknown>)[key] = value;
        }
      }
    },
    verify(token) {
      const [header, payload, signature] = token.split(".");
      if (!header || !payload || !signature) return undefined;
      const verifier = createVerify("RSA-SHA256");
      verifier.update(`${header}.${payload}`);
      if (!verifier.verify(certificate.certificatePem, Buffer.from(signature, "base64url")))
        return undefined;
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<
        string,
        unknown
      >;
      if (claims.iss !== settings.issuer) return undefined;
      if (typeof claims.exp !== "number" || claims.exp < Date.now() / 1000) return undefined;
      return claims;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      certificate.remove();
    },
  };
}
