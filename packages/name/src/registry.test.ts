import { describe, expect, it } from "vitest";
import { nameErrorFrom } from "../test/name-error.js";
import { DEFAULT_REGISTRY, type NameError, Registry } from "./index.js";

function registryError(s: string, opts?: Parameters<typeof Registry.parse>[1]): NameError {
  return nameErrorFrom(() => Registry.parse(s, opts));
}

// Facts from go-containerregistry's registry tests: hosts valid even under strict validation
// keep their name exactly.
const goodStrict = [
  "gcr.io",
  "gcr.io:9001",
  "index.docker.io",
  "us.gcr.io",
  "example.text",
  "localhost",
  "localhost:9090",
];

// Valid because Go's url.Parse keeps them as the authority: IPv6 in brackets, the empty
// port, and the RFC 3986 sub-delimiters.
const goodOther = [
  "::1",
  "[::1]",
  "[::1]:5000",
  "[::1]:",
  "[2001:db8::1]:5000",
  "[2001:db8:1:2:3:4:5:6]",
  "[::ffff:192.0.2.1]:443",
  "[2001:db8:3:4::192.0.2.33]:5000",
  "fc00::1:5000",
  "registry.example.com:",
  "sub_domain.example.com",
  "my~registry.example.com",
  "xn--n3h.com",
  "Example.COM",
  "10.0.0.1:5000",
  "a[b]",
];

describe("Registry.parse: valid hosts", () => {
  it.each(goodStrict)("%s is valid under strict validation and keeps its name", (host) => {
    const registry = Registry.parse(host, { strict: true });
    expect(registry.host).toBe(host);
    expect(registry.name).toBe(host);
    expect(registry.toString()).toBe(host);
  });

  it.each([...goodStrict, ...goodOther])("%s is valid under weak validation", (host) => {
    expect(Registry.parse(host).host).toBe(host);
  });
});

describe("Registry.parse: invalid hosts", () => {
  const bad: Array<[string, string]> = [
    ["white space", '" "'],
    ["gcr?com", '"?"'],
    ["gcr#com", '"#"'],
    ["user@gcr.io", '"@"'],
    ["gcr.io/path", '"/"'],
    ["gcr%2eio", '"%"'],
    ["tab\there", '"\\t"'],
    ["del\u007fhost", '"\\u007f"'],
    ["a{b}", '"{"'],
    ["a\\b", '"\\\\"'],
    ["a|b", '"|"'],
    ["a^b", '"^"'],
    ["a`b", '"`"'],
    ["gcr.io:port", '"port"'],
    ["gcr.io:50a", '"50a"'],
    ["gcr.io:-1", '"-1"'],
    ["localhost:80:x", '"x"'],
    ["[::1", "without a closing"],
    ["[::1]x", '"x"'],
    ["[::1]:5000x", '":5000x"'],
    ["[1.2.3.4]", "IPv6"],
    ["[gcr.io]", "IPv6"],
    ["[]", "IPv6"],
    ["[::1]]", "IPv6"],
    ["[fe80::1%25eth0]", '"%"'],
    ["[1:2:3:4:5:6:7:8:9]", "IPv6"],
    ["[1::2::3]", "IPv6"],
    ["[12345::1]", "IPv6"],
    ["[::ffff:1.2.3]", "IPv6"],
    ["bücher.example", "punycode"],
  ];

  it.each(bad)("%j is rejected, naming %s", (host, detail) => {
    const error = registryError(host);
    expect(error.code).toBe("HOIST_NAME_INVALID_REGISTRY");
    expect(error.operation).toBe("parse registry");
    expect(error.input).toBe(host);
    expect(error.message).toMatch(/^Invalid registry "/);
    expect(error.message).toContain(detail);
  });

  it("rejects them under strict validation too", () => {
    for (const [host] of bad) {
      expect(registryError(host, { strict: true }).code).toBe("HOIST_NAME_INVALID_REGISTRY");
    }
  });
});

describe("Registry.parse: defaults and Docker Hub", () => {
  it.each(["", "docker.io", "index.docker.io"])("%j means Docker Hub", (host) => {
    expect(Registry.parse(host).host).toBe(DEFAULT_REGISTRY);
  });

  it("fills an empty name with the default registry option", () => {
    expect(Registry.parse("", { defaultRegistry: "gcr.io" }).host).toBe("gcr.io");
  });

  it("rewrites docker.io to index.docker.io even with another default registry", () => {
    expect(Registry.parse("docker.io", { defaultRegistry: "gcr.io" }).host).toBe("index.docker.io");
  });

  it("rewrites a docker.io default registry too", () => {
    expect(Registry.parse("", { defaultRegistry: "docker.io" }).host).toBe("index.docker.io");
  });

  it("rewrites only the exact, lowercase alias", () => {
    expect(Registry.parse("Docker.io").host).toBe("Docker.io");
    expect(Registry.parse("docker.io:443").host).toBe("docker.io:443");
  });

  it("requires an explicit registry under strict validation", () => {
    const error = registryError("", { strict: true });
    expect(error.code).toBe("HOIST_NAME_INVALID_REGISTRY");
    expect(error.message).toContain("strict validation requires an explicit registry");
  });
});

describe("registry.scheme", () => {
  // go-containerregistry's scheme table, plus edges of each heuristic.
  const cases: Array<[string, "http" | "https"]> = [
    ["foo.svc.localhost:1234", "http"],
    ["foo.svc.local:1234", "https"],
    ["registry.local", "https"],
    ["127.0.0.1:1234", "http"],
    ["127.0.0.1", "http"],
    ["127.0.0.1.evil.com", "https"],
    ["my127.0.0.1registry.io", "https"],
    ["localhost:8080", "http"],
    ["gcr.io", "https"],
    ["index.docker.io", "https"],
    ["::1", "http"],
    ["[::1]:5000", "http"],
    ["[::1]", "http"],
    ["[2001:db8::1]:5000", "https"],
    ["10.2.3.4:5000", "http"],
    // A bare localhost (port 443) is https; only localhost:<port> is assumed plain http.
    ["localhost", "https"],
    ["localhost:", "http"],
    ["foo.localhost", "http"],
    [".localhost", "http"],
    ["foo.localhost:12345", "http"],
    ["foo.localhost:123456", "https"],
    ["localhost.example.com", "https"],
    ["127.0.0.1:", "https"],
    ["127.0.0.1:123456", "https"],
    ["127.0.0.2", "https"],
    ["[0:0:0:0:0:0:0:1]", "https"],
    // RFC 1918 ranges, with their borders.
    ["10.0.0.0", "http"],
    ["10.255.255.255:80", "http"],
    ["172.15.255.255", "https"],
    ["172.16.0.0", "http"],
    ["172.31.255.255:5000", "http"],
    ["172.32.0.0", "https"],
    ["192.168.3.4", "http"],
    ["192.169.0.1", "https"],
    ["8.8.8.8", "https"],
    ["10.256.0.0:5000", "https"],
    ["010.0.0.1", "https"],
    ["10.0.0", "https"],
    ["10.0.0.1.nip.io", "https"],
  ];

  it.each(cases)("%s uses %s", (host, scheme) => {
    const registry = Registry.parse(host);
    expect(registry.scheme).toBe(scheme);
    expect(registry.insecure).toBe(false);
  });

  it("is http for any registry declared insecure", () => {
    const registry = Registry.parse("gcr.io", { insecure: true });
    expect(registry.scheme).toBe("http");
    expect(registry.insecure).toBe(true);
  });
});

describe("Registry values", () => {
  it("has the catalog scope whatever the action", () => {
    expect(Registry.parse("gcr.io", { strict: true }).scope("whatever")).toBe("registry:catalog:*");
    expect(Registry.parse("gcr.io").scope()).toBe("registry:catalog:*");
  });

  it("serialises to JSON as its host", () => {
    expect(JSON.stringify({ r: Registry.parse("docker.io") })).toBe('{"r":"index.docker.io"}');
  });

  it("builds repositories, adding library/ on Docker Hub only", () => {
    expect(Registry.parse("").repository("ubuntu").name).toBe("index.docker.io/library/ubuntu");
    expect(Registry.parse("gcr.io").repository("ubuntu").name).toBe("gcr.io/ubuntu");
    expect(Registry.parse("gcr.io").repository("a/b").path).toBe("a/b");
  });

  it("validates the repository it builds", () => {
    expect(() => Registry.parse("gcr.io").repository("Bad")).toThrowError(
      expect.objectContaining({
        code: "HOIST_NAME_INVALID_REPOSITORY",
        operation: "create repository",
        input: "Bad",
      }),
    );
    expect(() => Registry.parse("gcr.io").repository("")).toThrowError(/empty/);
  });

  it("keeps the insecure flag on repositories it builds", () => {
    expect(Registry.parse("gcr.io", { insecure: true }).repository("x").scheme).toBe("http");
  });
});
