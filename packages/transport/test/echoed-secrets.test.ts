import { inspect } from "node:util";
import { basic, identityToken, registryToken } from "@hoist/authn";
import { type RunningHttpOrigin, startHttpOrigin, useStarted } from "@hoist/harness";
import { afterAll, describe, expect, it } from "vitest";
import { createTransport } from "../src/index.js";
import { caught } from "./helpers.js";

// Servers that echo what they were sent (an Authorization header, a password, a token) in
// their error bodies must not get those values into hoist's errors, which end up in CI logs.

const PASSWORD = "pw-6f1c2a9b7e";
const TOKEN = "tok-83a1b5c7d9e2f4";

/** Everything a logged or serialised error shows. */
function everything(error: unknown): string {
  return [
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
  ].join("\n");
}

describe("credentials echoed back by a server", () => {
  const origin = useStarted<RunningHttpOrigin>(
    "echoing origin",
    () => startHttpOrigin(),
    (o) => o.stop(),
  );
  const transport = createTransport({ retry: false });
  afterAll(() => transport.close());

  it("stay out of a RegistryError when the registry echoes the Authorization header", async () => {
    origin().setHandler((request, res) => {
      const sent = String(request.headers.authorization ?? "");
      const decoded = Buffer.from(sent.replace(/^Basic /, ""), "base64").toString("utf8");
      res.writeHead(request.path === "/v2/" ? 401 : 403, {
        "content-type": "application/json",
        "www-authenticate": 'Basic realm="echo"',
      });
      res.end(
        JSON.stringify({
          errors: [
            {
              code: "DENIED",
              message: `refused ${sent} (${decoded})`,
              detail: { authorization: sent, password: decoded.split(":")[1] },
            },
          ],
        }),
      );
    });
    const session = await transport.session({
      registry: origin().host,
      authenticator: basic("alice", PASSWORD),
    });
    const error = await caught(() => session.request({ method: "GET", path: "/v2/a/tags/list" }));
    expect(error.code).toBe("HOIST_TRANSPORT_REGISTRY_ERROR");
    expect(error.message).toContain("DENIED: refused <redacted>");
    const shown = everything(error);
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString("base64"));
  });

  it("stay out of a RegistryError quoting a plain-text body that echoes a bearer token", async () => {
    origin().setHandler((request, res) => {
      res.writeHead(request.path === "/v2/" ? 200 : 500, { "content-type": "text/html" });
      res.end(`<pre>${String(request.headers.authorization)}</pre>`);
    });
    const session = await transport.session({
      registry: origin().host,
      authenticator: registryToken(TOKEN),
    });
    const error = await caught(() =>
      session.request({ method: "GET", path: "/v2/a/tags/list", retry: false }),
    );
    expect(error.message).toContain("<redacted>");
    expect(everything(error)).not.toContain(TOKEN);
  });

  it.each([
    ["a password", basic("alice", PASSWORD), PASSWORD],
    ["a refresh token", identityToken(TOKEN), TOKEN],
  ])("stay out of a TokenExchangeError when the token server echoes %s", async (_, auth, value) => {
    origin().setHandler((request, res) => {
      if (request.path.startsWith("/token")) {
        const sent = `${String(request.headers.authorization)} ${request.body.toString("utf8")}`;
        const decoded = Buffer.from(
          String(request.headers.authorization).replace(/^Basic /, ""),
          "base64",
        ).toString("utf8");
        res.writeHead(401, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            error: "invalid_grant",
            error_description: `cannot use ${sent} / ${decoded}`,
            errors: [{ code: "UNAUTHORIZED", message: `bad ${decoded} ${sent}` }],
          }),
        );
        return;
      }
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="${origin().url}/token",service="echo"`,
      });
      res.end();
    });
    const session = await transport.session({ registry: origin().host, authenticator: auth });
    const error = await caught(() => session.request({ method: "GET", path: "/v2/a/tags/list" }));
    expect(error.code).toBe("HOIST_TRANSPORT_TOKEN_EXCHANGE");
    expect(error.message).toContain("<redacted>");
    expect(everything(error)).not.toContain(value);
  });
});
