import { readFileSync } from "node:fs";
import { basic } from "@hoist/authn";
import { useHtpasswdRegistry } from "@hoist/harness";
import { describe, expect, it } from "vitest";
import { createTransport, TRANSPORT_ERROR_CODES } from "../src/index.js";
import { pushBlob, registryAt } from "./helpers.js";
import { listTags } from "./readme-example.js";

describe("README", () => {
  const registry = useHtpasswdRegistry({ users: { ci: "ci-secret" } });

  it("README example", async () => {
    // Tag something first, so the example has a tag to find.
    const transport = createTransport();
    try {
      const session = await transport.session({
        registry: registryAt(registry().host),
        authenticator: basic("ci", "ci-secret"),
      });
      const config = new TextEncoder().encode("{}");
      const configDigest = await pushBlob(session, "team/app", config);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: configDigest,
          size: config.length,
        },
        layers: [],
      });
      const put = await session.request({
        method: "PUT",
        path: "/v2/team/app/manifests/v1",
        headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
        body: manifest,
        expectStatus: [201],
      });
      await put.discard();
    } finally {
      await transport.close();
    }

    expect(
      await listTags({
        host: registry().host,
        repository: "team/app",
        username: "ci",
        password: "ci-secret",
      }),
    ).toEqual(["v1"]);
  });

  it("shows the example exactly as the test runs it", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    // The README imports the published name; the test imports the source.
    const example = readFileSync(new URL("./readme-example.ts", import.meta.url), "utf8").replace(
      'from "../src/index.js"',
      'from "@hoist/transport"',
    );
    expect(readme).toContain(example.trim());
  });

  it("documents every error code", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    for (const code of TRANSPORT_ERROR_CODES)
      expect(readme).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, "m"));
  });
});
