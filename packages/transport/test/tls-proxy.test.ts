import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  createCertificate,
  type RunningDockerRegistry,
  type RunningForwardProxy,
  startDockerRegistry,
  startForwardProxy,
  type TestCertificate,
  useDockerRegistry,
  useStarted,
} from "@hoist/harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTransport } from "../src/index.js";
import { caught, registryAt } from "./helpers.js";

const run = promisify(execFile);

describe("TLS: a docker-registry serving https with a private CA", () => {
  let ca: TestCertificate;
  let otherCa: TestCertificate;
  let leaf: TestCertificate;
  let registry: RunningDockerRegistry;

  beforeAll(async () => {
    ca = createCertificate({ commonName: "hoist test CA", ca: true });
    otherCa = createCertificate({ commonName: "unrelated CA", ca: true });
    leaf = createCertificate({ commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], issuer: ca });
    registry = await startDockerRegistry({
      tls: { certificatePath: leaf.certificatePath, keyPath: leaf.keyPath },
    });
  });
  afterAll(async () => {
    await registry?.stop();
    for (const cert of [ca, otherCa, leaf]) cert?.remove();
  });

  it("refuses an untrusted certificate with a TLS error that says what to do", async () => {
    const transport = createTransport();
    try {
      const error = await caught(() => transport.ping(registryAt(registry.host, "https")));
      expect(error.code).toBe("HOIST_TRANSPORT_TLS");
      expect(error.message).toMatch(/pass it as tls\.ca \(or set NODE_EXTRA_CA_CERTS\)/);
    } finally {
      await transport.close();
    }
  });

  it("trusts an extra CA, and picks https for a loopback registry that has it", async () => {
    const transport = createTransport({ tls: { ca: ca.certificatePem } });
    try {
      const result = await transport.ping(registry.host);
      expect(result).toMatchObject({
        scheme: "https",
        status: 200,
        origin: `https://${registry.host}`,
      });
    } finally {
      await transport.close();
    }
  });

  it("skips verification only when asked", async () => {
    const transport = createTransport({ tls: { insecureSkipVerify: true } });
    try {
      expect((await transport.ping(registryAt(registry.host, "https"))).scheme).toBe("https");
    } finally {
      await transport.close();
    }
  });

  it("honours NODE_EXTRA_CA_CERTS alongside tls.ca", async () => {
    const dist = new URL("../dist/index.js", import.meta.url).href;
    const script = `
      const { createTransport } = await import(${JSON.stringify(dist)});
      const transport = createTransport({ tls: { ca: process.env.OTHER_CA } });
      const result = await transport.ping({ host: process.argv[1], scheme: "https", toString: () => process.argv[1] });
      await transport.close();
      console.log(result.scheme);
    `;
    const { stdout } = await run(
      process.execPath,
      ["--input-type=module", "-e", script, registry.host],
      {
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: ca.certificatePath,
          OTHER_CA: otherCa.certificatePem,
        },
      },
    );
    expect(stdout.trim()).toBe("https");
  });
});

describe("proxies", () => {
  const registry = useDockerRegistry();
  const proxy = useStarted<RunningForwardProxy>(
    "forward proxy",
    () => startForwardProxy(),
    (p) => p.stop(),
  );
  const viaProxy = () =>
    proxy()
      .requests()
      .filter((r) => r.target.includes(registry().host));

  it("sends requests through an explicit proxy, and around it for NO_PROXY hosts", async () => {
    const through = createTransport({ proxy: { http: proxy().url } });
    const around = createTransport({ proxy: { http: proxy().url, noProxy: "127.0.0.1" } });
    try {
      await (
        await (
          await through.session({ registry: registryAt(registry().host) })
        ).request({ method: "GET", path: "/v2/_catalog" })
      ).discard();
      expect(viaProxy().length).toBeGreaterThan(0);
      const before = viaProxy().length;
      await (
        await (
          await around.session({ registry: registryAt(registry().host) })
        ).request({ method: "GET", path: "/v2/_catalog" })
      ).discard();
      expect(viaProxy().length).toBe(before);
    } finally {
      await through.close();
      await around.close();
    }
  });

  it("reads HTTP_PROXY from the environment by default", async () => {
    const saved = {
      HTTP_PROXY: process.env.HTTP_PROXY,
      http_proxy: process.env.http_proxy,
      NO_PROXY: process.env.NO_PROXY,
      no_proxy: process.env.no_proxy,
    };
    process.env.HTTP_PROXY = proxy().url;
    delete process.env.http_proxy;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    const transport = createTransport();
    try {
      const before = viaProxy().length;
      await (
        await (
          await transport.session({ registry: registryAt(registry().host) })
        ).request({ method: "GET", path: "/v2/_catalog" })
      ).discard();
      expect(viaProxy().length).toBeGreaterThan(before);
    } finally {
      await transport.close();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("rejects a proxy that is not a URL", () => {
    expect(() => createTransport({ proxy: { https: "not a url" } })).toThrow(
      /proxy\.https must be an http\(s\) URL/,
    );
  });
});
