import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { ServerCertificate } from "@hoist/harness";

export const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** A JWT-shaped token (unsigned: nothing here verifies signatures) with the given claims. */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url(claims)}.c2lnbmF0dXJl`;
}

export interface ExchangeRequest {
  grant_type: string | null;
  service: string | null;
  tenant: string | null;
  access_token: string | null;
}

/**
 * Microsoft Entra ID (OIDC metadata and the v2 token endpoint) and ACR's /oauth2/exchange, on
 * one https loopback server.
 */
export class FakeAzure {
  readonly exchanges: ExchangeRequest[] = [];
  readonly aadRequests: URLSearchParams[] = [];
  exchangeStatus = 200;
  refreshLifetimeSeconds = 3 * 3600;
  readonly server: Server;

  constructor(certificate: ServerCertificate) {
    this.server = createServer(
      { cert: certificate.cert, key: certificate.key },
      async (req, res) => {
        let body = "";
        for await (const chunk of req) body += chunk;
        const url = new URL(req.url ?? "/", this.url);
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { "content-type": "application/json" });
          res.end(JSON.stringify(value));
        };
        if (url.pathname === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
          return json(200, {
            token_endpoint: `${this.url}/${TENANT}/oauth2/v2.0/token`,
            authorization_endpoint: `${this.url}/${TENANT}/oauth2/v2.0/authorize`,
            end_session_endpoint: `${this.url}/${TENANT}/oauth2/v2.0/logout`,
            issuer: `${this.url}/${TENANT}/v2.0`,
            jwks_uri: `${this.url}/${TENANT}/discovery/v2.0/keys`,
          });
        }
        if (url.pathname === `/${TENANT}/oauth2/v2.0/token` && req.method === "POST") {
          const form = new URLSearchParams(body);
          this.aadRequests.push(form);
          if (form.get("client_secret") !== "app-secret") {
            return json(401, {
              error: "invalid_client",
              error_description: "AADSTS7000215: Invalid client secret provided.",
            });
          }
          return json(200, {
            token_type: "Bearer",
            expires_in: 3599,
            ext_expires_in: 3599,
            access_token: fakeJwt({
              tid: TENANT,
              aud: "https://management.azure.com",
              n: this.aadRequests.length,
            }),
          });
        }
        if (url.pathname === "/oauth2/exchange" && req.method === "POST") {
          const form = new URLSearchParams(body);
          this.exchanges.push({
            grant_type: form.get("grant_type"),
            service: form.get("service"),
            tenant: form.get("tenant"),
            access_token: form.get("access_token"),
          });
          if (this.exchangeStatus !== 200) {
            return json(this.exchangeStatus, {
              errors: [{ code: "UNAUTHORIZED", message: "identity lacks AcrPull" }],
            });
          }
          return json(200, {
            refresh_token: fakeJwt({
              exp: Math.floor(Date.now() / 1000) + this.refreshLifetimeSeconds,
              n: this.exchanges.length,
            }),
          });
        }
        json(404, { error: "not_found", path: url.pathname });
      },
    );
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get url(): string {
    return `https://${this.host}`;
  }
}
