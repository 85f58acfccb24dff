import { describe, expect, it } from "vitest";
import { TransportError } from "./errors.js";
import { checkRealm, checkTarget, classifyHost } from "./target-safety.js";

describe("classifyHost", () => {
  it.each([
    ["registry-1.docker.io", "public"],
    ["8.8.8.8", "public"],
    ["[2001:db8::1]", "public"],
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["[::1]", "loopback"],
    ["localhost", "loopback"],
    ["reg.localhost", "loopback"],
    ["10.1.2.3", "private"],
    ["172.20.0.1", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["[fd12::1]", "private"],
    ["169.254.1.1", "link-local"],
    ["[fe80::1]", "link-local"],
    ["169.254.169.254", "metadata"],
    ["[fd00:ec2::254]", "metadata"],
    ["metadata.google.internal", "metadata"],
    ["100.100.100.200", "metadata"],
    ["0.0.0.0", "unspecified"],
    ["[::]", "unspecified"],
    ["[::ffff:127.0.0.1]", "loopback"],
    ["[::ffff:a9fe:a9fe]", "metadata"],
  ])("%s is %s", (host, expected) => {
    expect(classifyHost(host)).toBe(expected);
  });
});

function rejects(fn: () => unknown, code: string, pattern: RegExp) {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(TransportError.is(caught)).toBe(true);
  expect((caught as TransportError).code).toBe(code);
  expect((caught as Error).message).toMatch(pattern);
}

describe("checkRealm", () => {
  const hub = new URL("https://registry-1.docker.io/v2/");
  const local = new URL("http://127.0.0.1:5000/v2/");

  it("accepts an https realm on a public host", () => {
    expect(checkRealm("https://auth.docker.io/token", hub).host).toBe("auth.docker.io");
  });

  it("accepts a realm on the registry's own host and port whatever its class", () => {
    expect(checkRealm("http://127.0.0.1:5000/token", local).port).toBe("5000");
  });

  it("lets a loopback registry use a token server on another loopback port", () => {
    expect(checkRealm("http://127.0.0.1:6000/token", local).port).toBe("6000");
  });

  it.each([
    ["an http realm for an https registry", "http://auth.docker.io/token", /downgrade/],
    ["the cloud metadata service", "https://169.254.169.254/latest/meta-data", /metadata address/],
    ["a loopback realm from a public registry", "https://127.0.0.1/token", /loopback address/],
    ["a private realm from a public registry", "https://10.0.0.1/token", /private address/],
    ["a non-http scheme", "file:///etc/passwd", /scheme is file/],
    ["a relative realm", "/token", /not an absolute URL/],
    ["user info in the realm", "https://u:p@auth.docker.io/token", /user info/],
  ])("refuses %s", (_name, realm, pattern) => {
    rejects(() => checkRealm(realm, hub), "HOIST_TRANSPORT_UNSAFE_REALM", pattern);
  });

  it("lets a registry that is itself link-local use a link-local realm", () => {
    expect(
      checkRealm("http://169.254.10.10/token", new URL("http://169.254.10.9:5000")).hostname,
    ).toBe("169.254.10.10");
    rejects(
      () => checkRealm("http://169.254.169.254/token", local),
      "HOIST_TRANSPORT_UNSAFE_REALM",
      /metadata/,
    );
  });
});

describe("checkTarget", () => {
  const hub = new URL("https://registry-1.docker.io");
  it("allows CDNs and the registry's own host", () => {
    expect(() =>
      checkTarget(new URL("https://production.cloudflare.docker.com/x"), hub, "request"),
    ).not.toThrow();
    expect(() =>
      checkTarget(new URL("http://registry-1.docker.io/x"), hub, "request"),
    ).not.toThrow();
  });
  it("refuses internal addresses from a public registry and odd schemes", () => {
    rejects(
      () => checkTarget(new URL("http://169.254.169.254/"), hub, "request"),
      "HOIST_TRANSPORT_UNSAFE_TARGET",
      /metadata/,
    );
    rejects(
      () => checkTarget(new URL("http://192.168.0.1/"), hub, "request"),
      "HOIST_TRANSPORT_UNSAFE_TARGET",
      /private/,
    );
    rejects(
      () => checkTarget(new URL("ftp://x/"), hub, "request"),
      "HOIST_TRANSPORT_UNSAFE_TARGET",
      /scheme is ftp/,
    );
  });
  it("allows a loopback registry to redirect to another loopback port", () => {
    expect(() =>
      checkTarget(new URL("http://127.0.0.1:7000/b"), new URL("http://127.0.0.1:5000"), "request"),
    ).not.toThrow();
  });
});
