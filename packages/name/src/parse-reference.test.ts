import { describe, expect, it } from "vitest";
import { nameErrorFrom } from "../test/name-error.js";
import {
  DEFAULT_REGISTRY,
  DEFAULT_TAG,
  Digest,
  NameError,
  type ParseOptions,
  parseReference,
  Tag,
} from "./index.js";

function referenceError(s: string, opts?: ParseOptions): NameError {
  return nameErrorFrom(() => parseReference(s, opts));
}

const F64 = "f".repeat(64);
const SHA256 = `sha256:${F64}`;

describe("parseReference", () => {
  it("returns a Tag without @ and a Digest with it", () => {
    const tag = parseReference("gcr.io/foo/bar:v1");
    expect(tag).toBeInstanceOf(Tag);
    expect(tag.kind).toBe("tag");
    const digest = parseReference(`gcr.io/foo/bar@${SHA256}`);
    expect(digest).toBeInstanceOf(Digest);
    expect(digest.kind).toBe("digest");
  });

  it("gives the same values as Tag.parse and Digest.parse", () => {
    for (const s of ["ubuntu", "gcr.io/a/b:c", `a/b@${SHA256}`, `a:b@${SHA256}`]) {
      const viaReference = parseReference(s);
      const direct = s.includes("@") ? Digest.parse(s) : Tag.parse(s);
      expect(viaReference.name).toBe(direct.name);
      expect(viaReference.toString()).toBe(direct.toString());
      expect(viaReference.constructor).toBe(direct.constructor);
    }
  });

  it("parses repo:tag@digest as a Digest, like go-containerregistry", () => {
    const s = `example.text/foo/bar:v1.0.0@${SHA256}`;
    const ref = parseReference(s, { strict: true });
    expect(ref).toBeInstanceOf(Digest);
    expect(ref.identifier).toBe(SHA256);
    expect(ref.name).toBe(`example.text/foo/bar@${SHA256}`);
    expect(ref.toString()).toBe(s);
  });

  // go-containerregistry's defaulting facts, with a custom registry and tag.
  it.each([
    ["crossplane/provider-gcp", "registry.upbound.io/crossplane/provider-gcp:stable"],
    ["crossplane/provider-gcp:v0.14.0", "registry.upbound.io/crossplane/provider-gcp:v0.14.0"],
    ["ubuntu", "registry.upbound.io/ubuntu:stable"],
    ["gcr.io/crossplane/provider-gcp:latest", "gcr.io/crossplane/provider-gcp:latest"],
    ["localhost/testimage:mytag", "localhost/testimage:mytag"],
  ])("with defaults, %s is %s", (s, name) => {
    const ref = parseReference(s, { defaultRegistry: "registry.upbound.io", defaultTag: "stable" });
    expect(ref.name).toBe(name);
    expect(ref.toString()).toBe(s);
  });

  it("exports the defaults", () => {
    expect(DEFAULT_REGISTRY).toBe("index.docker.io");
    expect(DEFAULT_TAG).toBe("latest");
  });
});

// distribution's reference table, with the outcome go-containerregistry's rules give (the
// two disagree where distribution is stricter: ggcr has no per-component grammar).
describe("distribution's reference cases under ggcr rules", () => {
  type Outcome = { name: string; kind: "tag" | "digest" } | { code: string };
  const hub = (path: string) => `index.docker.io/${path}`;
  const cases: Array<[string, Outcome]> = [
    ["test_com", { name: hub("library/test_com:latest"), kind: "tag" }],
    ["test.com:tag", { name: hub("library/test.com:tag"), kind: "tag" }],
    ["test.com:5000", { name: hub("library/test.com:5000"), kind: "tag" }],
    ["test.com/repo:tag", { name: "test.com/repo:tag", kind: "tag" }],
    ["test:5000/repo", { name: "test:5000/repo:latest", kind: "tag" }],
    ["test:5000/repo:tag", { name: "test:5000/repo:tag", kind: "tag" }],
    [`test:5000/repo@${SHA256}`, { name: `test:5000/repo@${SHA256}`, kind: "digest" }],
    [`test:5000/repo:tag@${SHA256}`, { name: `test:5000/repo@${SHA256}`, kind: "digest" }],
    ["", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    [":justtag", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    [`@${SHA256}`, { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["repo@sha256:ffffffffffffffffffffffffffffffffff", { code: "HOIST_NAME_INVALID_DIGEST" }],
    [`validname@invaliddigest:${F64}`, { code: "HOIST_NAME_INVALID_DIGEST" }],
    // sha512 is accepted here (distribution refuses it unless registered).
    [
      `validname@sha512:${F64}${F64}`,
      { name: hub(`library/validname@sha512:${F64}${F64}`), kind: "digest" },
    ],
    ["Uppercase:tag", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["Uppercase/lowercase:tag", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["test:5000/Uppercase/lowercase:tag", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["lowercase:Uppercase", { name: hub("library/lowercase:Uppercase"), kind: "tag" }],
    [`domain/${"a".repeat(256)}:tag`, { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    [
      `${"a/".repeat(127)}a:tag-puts-this-over-max`,
      { name: hub(`${"a/".repeat(127)}a:tag-puts-this-over-max`), kind: "tag" },
    ],
    ["aa/asdf$$^/aa", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    [
      "sub-dom1.foo.com/bar/baz/quux",
      { name: "sub-dom1.foo.com/bar/baz/quux:latest", kind: "tag" },
    ],
    [
      "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
      { name: "sub-dom1.foo.com/bar/baz/quux:some-long-tag", kind: "tag" },
    ],
    [
      "b.gcr.io/test.example.com/my-app:test.example.com",
      { name: "b.gcr.io/test.example.com/my-app:test.example.com", kind: "tag" },
    ],
    ["xn--n3h.com/myimage:xn--n3h.com", { name: "xn--n3h.com/myimage:xn--n3h.com", kind: "tag" }],
    [
      `xn--7o8h.com/myimage:xn--7o8h.com@${SHA256}`,
      { name: `xn--7o8h.com/myimage@${SHA256}`, kind: "digest" },
    ],
    ["foo_bar.com:8080", { name: hub("library/foo_bar.com:8080"), kind: "tag" }],
    ["foo/foo_bar.com:8080", { name: hub("foo/foo_bar.com:8080"), kind: "tag" }],
    ["192.168.1.1", { name: hub("library/192.168.1.1:latest"), kind: "tag" }],
    ["192.168.1.1:tag", { name: hub("library/192.168.1.1:tag"), kind: "tag" }],
    ["192.168.1.1:5000", { name: hub("library/192.168.1.1:5000"), kind: "tag" }],
    ["192.168.1.1/repo", { name: "192.168.1.1/repo:latest", kind: "tag" }],
    ["192.168.1.1:5000/repo", { name: "192.168.1.1:5000/repo:latest", kind: "tag" }],
    ["192.168.1.1:5000/repo:5050", { name: "192.168.1.1:5000/repo:5050", kind: "tag" }],
    ["[2001:db8::1]", { code: "HOIST_NAME_INVALID_TAG" }],
    ["[2001:db8::1]:5000", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["[2001:db8::1]:tag", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["[2001:db8::1]/repo", { name: "[2001:db8::1]/repo:latest", kind: "tag" }],
    ["[2001:db8:1:2:3:4:5:6]/repo:tag", { name: "[2001:db8:1:2:3:4:5:6]/repo:tag", kind: "tag" }],
    ["[2001:db8::1]:5000/repo", { name: "[2001:db8::1]:5000/repo:latest", kind: "tag" }],
    ["[2001:db8::1]:5000/repo:tag", { name: "[2001:db8::1]:5000/repo:tag", kind: "tag" }],
    [
      `[2001:db8::1]:5000/repo@${SHA256}`,
      { name: `[2001:db8::1]:5000/repo@${SHA256}`, kind: "digest" },
    ],
    [
      `[2001:db8::1]:5000/repo:tag@${SHA256}`,
      { name: `[2001:db8::1]:5000/repo@${SHA256}`, kind: "digest" },
    ],
    ["[2001:db8::]:5000/repo", { name: "[2001:db8::]:5000/repo:latest", kind: "tag" }],
    ["[::1]:5000/repo", { name: "[::1]:5000/repo:latest", kind: "tag" }],
    ["[fe80::1%eth0]:5000/repo", { code: "HOIST_NAME_INVALID_REGISTRY" }],
    ["[fe80::1%@invalidzone]:5000/repo", { code: "HOIST_NAME_INVALID_DIGEST" }],
    [
      `example.com/${"a".repeat(255)}:tag`,
      { name: `example.com/${"a".repeat(255)}:tag`, kind: "tag" },
    ],
    // From distribution's normalisation tests.
    ["LOCALDOMAIN/library/debian", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["Docker/docker", { code: "HOIST_NAME_INVALID_REPOSITORY" }],
    ["localhost/library/debian", { name: "localhost/library/debian:latest", kind: "tag" }],
    ["docker.io/debian", { name: hub("library/debian:latest"), kind: "tag" }],
    ["127.0.0.1:5000/debian", { name: "127.0.0.1:5000/debian:latest", kind: "tag" }],
    ["192.168.0.1:80", { name: hub("library/192.168.0.1:80"), kind: "tag" }],
    ["[fc00::1]:5000/docker/docker", { name: "[fc00::1]:5000/docker/docker:latest", kind: "tag" }],
    ["[fc00::1]", { code: "HOIST_NAME_INVALID_TAG" }],
    ["fc00::1:5000/debian", { name: "fc00::1:5000/debian:latest", kind: "tag" }],
    [
      "[2001:db8:3:4::192.0.2.33]:5000/debian",
      { name: "[2001:db8:3:4::192.0.2.33]:5000/debian:latest", kind: "tag" },
    ],
    [
      "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      {
        name: hub(
          "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
        ),
        kind: "tag",
      },
    ],
    ["docker-/docker", { name: hub("docker-/docker:latest"), kind: "tag" }],
    ["docker/", { name: hub("docker/:latest"), kind: "tag" }],
  ];

  it.each(cases)("%s", (s, outcome) => {
    if ("code" in outcome) {
      const error = referenceError(s);
      expect(error.code).toBe(outcome.code);
      expect(error.operation).toBe("parse reference");
      expect(error.input).toBe(s);
    } else {
      const ref = parseReference(s);
      expect(ref.name).toBe(outcome.name);
      expect(ref.kind).toBe(outcome.kind);
      expect(ref.toString()).toBe(s);
    }
  });
});

describe("error reasons survive parseReference", () => {
  it.each([
    ["gcr.io/foo:bad!", "HOIST_NAME_INVALID_TAG", 'the tag "bad!" contains "!"'],
    [`gcr.io/foo:${"t".repeat(129)}`, "HOIST_NAME_INVALID_TAG", "is 129 characters long"],
    ["ubuntu:", "HOIST_NAME_INVALID_TAG", 'nothing follows the ":"'],
    ["gcr.io/Foo", "HOIST_NAME_INVALID_REPOSITORY", "repository names are lowercase"],
    ["foo/bar baz", "HOIST_NAME_INVALID_REPOSITORY", 'contains " "'],
    ["bad host.io/foo", "HOIST_NAME_INVALID_REGISTRY", 'the registry "bad host.io" contains " "'],
    ["gcr.io:x/foo", "HOIST_NAME_INVALID_REGISTRY", 'the port "x"'],
    ["[1.2.3.4]:5000/foo", "HOIST_NAME_INVALID_REGISTRY", "IPv6"],
    ["foo@sha256:abc", "HOIST_NAME_INVALID_DIGEST", "has 3 hex characters; it needs exactly 64"],
    ["foo@md5:abc", "HOIST_NAME_INVALID_DIGEST", '"md5" is not supported'],
    ["@@", "HOIST_NAME_INVALID_REFERENCE", 'more than one "@"'],
  ])("%s: %s, %s", (s, code, reason) => {
    const error = referenceError(s);
    expect(error).toBeInstanceOf(NameError);
    expect(error.code).toBe(code);
    expect(error.message).toContain(reason);
    expect(error.message.startsWith(`Invalid reference ${JSON.stringify(s)}: `)).toBe(true);
  });

  it("quotes control characters and shortens very long input", () => {
    expect(referenceError("foo\nbar").message).toContain('"foo\\nbar"');
    const long = `${"x".repeat(1000)}!`;
    const error = referenceError(long);
    expect(error.input).toBe(long);
    expect(error.message).toContain("(1001 characters)");
    expect(error.message.length).toBeLessThan(700);
  });
});

describe("options", () => {
  it("strict requires registry, tag and library/ and otherwise changes nothing", () => {
    expect(referenceError("ubuntu", { strict: true }).code).toBe("HOIST_NAME_INVALID_TAG");
    expect(referenceError("ubuntu:1", { strict: true }).code).toBe("HOIST_NAME_INVALID_REGISTRY");
    expect(referenceError(`ubuntu@${SHA256}`, { strict: true }).code).toBe(
      "HOIST_NAME_INVALID_REGISTRY",
    );
    expect(referenceError("index.docker.io/ubuntu:1", { strict: true }).code).toBe(
      "HOIST_NAME_INVALID_REPOSITORY",
    );
    expect(parseReference("index.docker.io/library/ubuntu:1", { strict: true }).name).toBe(
      "index.docker.io/library/ubuntu:1",
    );
    expect(parseReference("ubuntu:1", { strict: false }).name).toBe(
      "index.docker.io/library/ubuntu:1",
    );
  });

  it("insecure makes every registry http and is kept on the registry", () => {
    const ref = parseReference("gcr.io/foo", { insecure: true });
    expect(ref.scheme).toBe("http");
    expect(ref.registry.insecure).toBe(true);
    expect(parseReference("gcr.io/foo").scheme).toBe("https");
    expect(parseReference("ubuntu", { insecure: true }).registry.scheme).toBe("http");
  });

  it("defaultRegistry and defaultTag fill in only what is missing", () => {
    const opts = { defaultRegistry: "reg.example:5000", defaultTag: "edge" };
    expect(parseReference("foo", opts).name).toBe("reg.example:5000/foo:edge");
    expect(parseReference("gcr.io/foo:v1", opts).name).toBe("gcr.io/foo:v1");
    expect(parseReference(`foo@${SHA256}`, opts).name).toBe(`reg.example:5000/foo@${SHA256}`);
    expect(parseReference("localhost:5000/foo", { defaultRegistry: "localhost:5000" }).scheme).toBe(
      "http",
    );
  });

  it("rejects strict validation of an empty default registry", () => {
    expect(referenceError("foo:1", { strict: true, defaultRegistry: "gcr.io" }).code).toBe(
      "HOIST_NAME_INVALID_REGISTRY",
    );
  });

  it.each([
    [{ defaultRegistry: "" }, '"defaultRegistry": the registry is empty'],
    [{ defaultRegistry: "bad host" }, '"defaultRegistry": the registry "bad host" contains " "'],
    [
      { defaultRegistry: "gcr.io/foo" },
      '"defaultRegistry": the registry "gcr.io/foo" contains "/"',
    ],
    [{ defaultTag: "" }, '"defaultTag": the tag is empty'],
    [{ defaultTag: "a:b" }, '"defaultTag": the tag "a:b" contains ":"'],
    [{ strict: "yes" }, '"strict" must be a boolean, got string'],
    [{ insecure: 1 }, '"insecure" must be a boolean, got number'],
    [{ defaultRegistry: 5 }, '"defaultRegistry" must be a string, got number'],
    [{ defaultTag: null }, '"defaultTag" must be a string, got object'],
    [null, "options must be an object, got null"],
    ["strict", "options must be an object, got string"],
  ])("rejects the options %j", (opts, reason) => {
    const error = referenceError("ubuntu", opts as unknown as ParseOptions);
    expect(error.code).toBe("HOIST_NAME_INVALID_OPTION");
    expect(error.operation).toBe("parse reference");
    expect(error.message.startsWith(`Invalid options for parse reference: ${reason}`)).toBe(true);
    expect(error.message.endsWith(".")).toBe(true);
  });

  it("checks options even when the input would not need them", () => {
    expect(referenceError("gcr.io/foo:v1", { defaultTag: "bad tag" }).code).toBe(
      "HOIST_NAME_INVALID_OPTION",
    );
  });

  it("treats undefined option fields as unset", () => {
    expect(
      parseReference("foo", {
        strict: undefined,
        insecure: undefined,
        defaultRegistry: undefined,
        defaultTag: undefined,
      }).name,
    ).toBe("index.docker.io/library/foo:latest");
  });
});
