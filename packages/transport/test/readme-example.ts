import { basic } from "@hoist/authn";
import { createTransport } from "../src/index.js";

/** Lists a repository's tags on a registry that wants a username and password. */
export async function listTags(options: {
  host: string; // "127.0.0.1:5000"
  repository: string; // "team/app"
  username: string;
  password: string;
}): Promise<string[]> {
  const transport = createTransport({ userAgent: "readme-example/1.0" });
  try {
    const session = await transport.session({
      // "host[:port]", or a Registry from @hoist/name; loopback registries may use plain http.
      registry: options.host,
      authenticator: basic(options.username, options.password),
      scopes: [`repository:${options.repository}:pull`],
    });
    const response = await session.request({
      method: "GET",
      path: `/v2/${options.repository}/tags/list`,
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { tags: string[] | null };
    return body.tags ?? [];
  } finally {
    await transport.close();
  }
}
