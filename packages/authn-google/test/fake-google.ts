import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { guardLoopbackOnly, type LoopbackGuard } from "@hoist/harness";
import { afterAll, afterEach, beforeAll, beforeEach, vi } from "vitest";

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/**
 * Speaks what google-auth-library talks to: the GCE metadata server (ping, service account
 * token, universe domain) and an STS token endpoint for workload identity federation.
 */
export class FakeGoogle {
  readonly seen: SeenRequest[] = [];
  tokens = 0;
  stsStatus = 200;
  readonly server: Server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? "/", "http://localhost");
    this.seen.push({
      method: req.method ?? "",
      path: url.pathname + url.search,
      headers: req.headers,
      body,
    });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(value));
    };
    const metadata = { "metadata-flavor": "Google" };
    if (url.pathname.startsWith("/computeMetadata/v1")) {
      if (req.headers["metadata-flavor"] !== "Google")
        return json(403, { error: "missing Metadata-Flavor" });
      if (url.pathname === "/computeMetadata/v1/instance/service-accounts/default/token") {
        this.tokens++;
        return json(
          200,
          { access_token: `metadata-token-${this.tokens}`, expires_in: 3599, token_type: "Bearer" },
          metadata,
        );
      }
      if (url.pathname === "/computeMetadata/v1/universe/universe-domain") {
        res.writeHead(200, { "content-type": "application/text", ...metadata });
        return res.end("googleapis.com");
      }
      if (
        url.pathname === "/computeMetadata/v1/instance" ||
        url.pathname === "/computeMetadata/v1/"
      ) {
        res.writeHead(200, { "content-type": "application/text", ...metadata });
        return res.end("");
      }
      res.writeHead(404, metadata);
      return res.end("not found");
    }
    if (url.pathname === "/v1/token" && req.method === "POST") {
      this.tokens++;
      if (this.stsStatus !== 200) {
        return json(this.stsStatus, {
          error: "invalid_grant",
          error_description: "the subject token is expired",
        });
      }
      return json(200, {
        access_token: `sts-token-${this.tokens}`,
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer",
        expires_in: 3600,
      });
    }
    json(404, { error: "not found" });
  });

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

/** Starts the fake and the loopback guard for a test file, with a clean Google environment. */
export function useFakeGoogle(home: () => string): {
  fake: () => FakeGoogle;
  guard: () => LoopbackGuard;
} {
  let fake: FakeGoogle | undefined;
  let guard: LoopbackGuard | undefined;
  beforeAll(async () => {
    guard = guardLoopbackOnly();
    fake = new FakeGoogle();
    const server = fake.server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => {
    fake?.server.close();
    guard?.restore();
  });
  beforeEach(() => {
    // Nothing from this machine's real gcloud or environment.
    vi.stubEnv("CLOUDSDK_CONFIG", home());
    vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", "");
    vi.stubEnv("GCE_METADATA_HOST", "");
    vi.stubEnv("GCE_METADATA_IP", "");
    vi.stubEnv("METADATA_SERVER_DETECTION", "");
    vi.stubEnv("GOOGLE_CLOUD_PROJECT", "hoist-test");
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  return {
    fake: () => fake as FakeGoogle,
    guard: () => guard as LoopbackGuard,
  };
}
