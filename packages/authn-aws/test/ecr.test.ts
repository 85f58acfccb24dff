import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { anonymous, defaultKeychain, multiKeychain } from "@hoist/authn";
import { guardLoopbackOnly, type LoopbackGuard } from "@hoist/harness";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createEcrClient, ecrKeychain, parseEcrHost } from "../src/index.js";

const ACCOUNT = "123456789012";
const HOST = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;

interface Seen {
  target: string;
  authorization: string;
  contentType: string;
  body: unknown;
}

/** Speaks the ECR and ECR Public JSON 1.1 APIs' GetAuthorizationToken, on loopback. */
class FakeEcr {
  server: Server;
  seen: Seen[] = [];
  reply = this.defaultReply;

  defaultReply(target: string): { status: number; body: unknown } {
    return {
      status: 200,
      body: target.startsWith("SpencerFrontendService")
        ? {
            authorizationData: {
              authorizationToken: b64("AWS:public-password"),
              expiresAt: Date.now() / 1000 + 3600,
            },
          }
        : {
            authorizationData: [
              {
                authorizationToken: b64(`AWS:password-${this.seen.length}`),
                expiresAt: Date.now() / 1000 + 12 * 3600,
                proxyEndpoint: `https://${HOST}`,
              },
            ],
          },
    };
  }

  constructor() {
    this.server = createServer(async (req, res) => {
      const body = await read(req);
      const target = String(req.headers["x-amz-target"]);
      this.seen.push({
        target,
        authorization: String(req.headers.authorization),
        contentType: String(req.headers["content-type"]),
        body: JSON.parse(body || "{}"),
      });
      const { status, body: answer } = this.reply(target);
      res.writeHead(status, {
        "content-type": "application/x-amz-json-1.1",
        ...(status >= 400 ? { "x-amzn-errortype": (answer as { __type: string }).__type } : {}),
      });
      res.end(JSON.stringify(answer));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

async function read(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

const registry = (host: string) => ({ host, toString: () => host });

let fake: FakeEcr;
let guard: LoopbackGuard;

beforeAll(async () => {
  guard = guardLoopbackOnly();
  fake = new FakeEcr();
  await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
});

afterAll(() => {
  fake.server.close();
  guard.restore();
  // Nothing in these tests may have tried to leave the machine.
  expect(guard.refused).toEqual([]);
});

beforeEach(() => {
  fake.seen = [];
  fake.reply = fake.defaultReply;
  // The SDK's default provider chain, fed through the environment only.
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  vi.stubEnv("AWS_SESSION_TOKEN", "");
  vi.stubEnv("AWS_PROFILE", "");
  vi.stubEnv("AWS_CONFIG_FILE", "/nonexistent/hoist-aws-config");
  vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/hoist-aws-credentials");
  vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
  vi.stubEnv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "");
  vi.stubEnv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "");
  vi.stubEnv("AWS_WEB_IDENTITY_TOKEN_FILE", "");
});

afterEach(() => {
  vi.unstubAllEnvs();
});

function keychain(extra: Parameters<typeof ecrKeychain>[0] = {}) {
  return ecrKeychain({
    clientConfig: { endpoint: fake.url, maxAttempts: 1 },
    publicClientConfig: { endpoint: fake.url, maxAttempts: 1 },
    ...extra,
  });
}

describe("ECR through the real AWS SDK", () => {
  it("signs GetAuthorizationToken with env credentials for the host's region and decodes the token", async () => {
    const auth = await keychain().resolve(registry(HOST));
    expect(await auth.authorization()).toEqual({
      kind: "basic",
      username: "AWS",
      password: "password-1",
    });
    expect(fake.seen).toHaveLength(1);
    const [request] = fake.seen;
    expect(request?.target).toBe("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
    expect(request?.contentType).toBe("application/x-amz-json-1.1");
    expect(request?.body).toEqual({ registryIds: [ACCOUNT] });
    expect(request?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ecr\/aws4_request/,
    );
  });

  it("caches the token until shortly before it expires", async () => {
    const kc = keychain();
    const first = await kc.resolve(registry(HOST));
    await first.authorization();
    await (
      await kc.resolve({
        registry: registry(HOST),
        path: "team/app",
        name: `${HOST}/team/app`,
        toString: () => "",
      })
    ).authorization();
    expect(fake.seen).toHaveLength(1);

    // A token inside the refresh margin is replaced on the next authorization().
    fake.reply = () => ({
      status: 200,
      body: {
        authorizationData: [
          { authorizationToken: b64("AWS:short"), expiresAt: Date.now() / 1000 + 60 },
        ],
      },
    });
    const shortLived = keychain();
    const auth = await shortLived.resolve(registry(HOST));
    expect(await auth.authorization()).toEqual({
      kind: "basic",
      username: "AWS",
      password: "short",
    });
    await auth.authorization();
    expect(fake.seen).toHaveLength(4);
  });

  it("serves public.ecr.aws through ECR Public in us-east-1", async () => {
    const auth = await keychain().resolve(registry("public.ecr.aws"));
    expect(await auth.authorization()).toEqual({
      kind: "basic",
      username: "AWS",
      password: "public-password",
    });
    expect(fake.seen[0]?.target).toBe("SpencerFrontendService.GetAuthorizationToken");
    expect(fake.seen[0]?.authorization).toContain("/us-east-1/ecr-public/aws4_request");
  });

  it("answers anonymous for other registries without calling AWS", async () => {
    for (const host of [
      "ghcr.io",
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example",
      "dkr.ecr.eu-west-1.amazonaws.com",
    ]) {
      expect(await keychain().resolve(registry(host))).toBe(anonymous);
    }
    expect(await keychain({ ecrPublic: false }).resolve(registry("public.ecr.aws"))).toBe(
      anonymous,
    );
    expect(fake.seen).toEqual([]);
  });

  it("answers anonymous when the default provider chain finds no credentials", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "");
    expect(await keychain().resolve(registry(HOST))).toBe(anonymous);
    expect(fake.seen).toEqual([]);
  });

  it("reports an AWS error with its name, without the credentials", async () => {
    fake.reply = () => ({
      status: 400,
      body: {
        __type: "AccessDeniedException",
        message: "User is not authorized to perform ecr:GetAuthorizationToken",
      },
    });
    const error = await keychain()
      .resolve(registry(HOST))
      .catch((e) => e);
    expect(error).toMatchObject({ code: "HOIST_AUTHN_PROVIDER_FAILED", registry: HOST });
    expect(error.message).toContain("AccessDeniedException");
    expect(error.message).not.toContain("wJalrXUtnFEMI");
  });

  it("reports a token that does not decode", async () => {
    fake.reply = () => ({
      status: 200,
      body: { authorizationData: [{ authorizationToken: b64("nocolon") }] },
    });
    await expect(keychain().resolve(registry(HOST))).rejects.toMatchObject({
      code: "HOIST_AUTHN_PROVIDER_INVALID_RESPONSE",
    });
  });
});

describe("ECR hosts", () => {
  it.each([
    [HOST, { accountId: ACCOUNT, region: "eu-west-1", fips: false, dnsSuffix: "amazonaws.com" }],
    [
      `${ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`,
      { accountId: ACCOUNT, region: "us-gov-west-1", fips: true, dnsSuffix: "amazonaws.com" },
    ],
    [
      `${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn`,
      { accountId: ACCOUNT, region: "cn-north-1", fips: false, dnsSuffix: "amazonaws.com.cn" },
    ],
    [
      `${ACCOUNT}.dkr-ecr.ap-southeast-2.on.aws`,
      { accountId: ACCOUNT, region: "ap-southeast-2", fips: false, dnsSuffix: "on.aws" },
    ],
    [
      `${ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov`,
      { accountId: ACCOUNT, region: "us-iso-east-1", fips: false, dnsSuffix: "c2s.ic.gov" },
    ],
  ])("parses %s", (host, want) => {
    expect(parseEcrHost(host)).toEqual(want);
  });

  it.each([
    "12345.dkr.ecr.us-east-1.amazonaws.com",
    `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com:443x`,
    "gcr.io",
    `${ACCOUNT}.ecr.us-east-1.amazonaws.com`,
  ])("rejects %s", (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
  });

  it.each([
    [HOST, "https://api.ecr.eu-west-1.amazonaws.com"],
    [
      `${ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`,
      "https://api.ecr-fips.us-gov-west-1.amazonaws.com",
    ],
    [
      `${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn`,
      "https://api.ecr.cn-north-1.amazonaws.com.cn",
    ],
  ])("points the SDK at the right partition for %s", async (host, endpoint) => {
    const client = createEcrClient(
      parseEcrHost(host) as NonNullable<ReturnType<typeof parseEcrHost>>,
    );
    const resolved = client.config.endpointProvider({
      Region: await client.config.region(),
      UseFIPS: await client.config.useFipsEndpoint(),
      UseDualStack: false,
    });
    expect(resolved.url.origin).toBe(endpoint);
  });
});

it("README example", async () => {
  // The SDK's own endpoint override (AWS_ENDPOINT_URL_ECR) sends the README's code to the fake.
  vi.stubEnv("AWS_ENDPOINT_URL_ECR", fake.url);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});

  // --- the README's code, unchanged ---
  const keychain = multiKeychain([ecrKeychain(), defaultKeychain()]);
  const host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
  const auth = await keychain.resolve({ host, toString: () => host });
  const credential = await auth.authorization();
  console.log(credential.kind === "basic" ? credential.username : credential.kind); // "AWS"
  // --- end ---

  expect(log).toHaveBeenCalledWith("AWS");
  expect(fake.seen).toHaveLength(1);
});
