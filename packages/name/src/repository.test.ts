import { describe, expect, it } from "vitest";
import { nameErrorFrom } from "../test/name-error.js";
import { type NameError, type ParseOptions, Repository } from "./index.js";

function repositoryError(s: string, opts?: ParseOptions): NameError {
  return nameErrorFrom(() => Repository.parse(s, opts));
}

const DIGEST = `sha256:${"deadb33f".repeat(8)}`;

// Facts from go-containerregistry's repository tests: names valid under strict validation
// come back unchanged from `name`.
const goodStrict = [
  "gcr.io/g-convoy/hello-world",
  "gcr.io/google.com/project-id/hello-world",
  "us.gcr.io/project-id/sub-repo",
  "example.text/foo/bar",
  "mirror.gcr.io/ubuntu",
  "index.docker.io/library/ubuntu",
  "example.com/a",
  "example.com/a/b",
];

const goodWeak = ["namespace/pathcomponent/image", "library/ubuntu", "ubuntu", "a", "0"];

describe("Repository.parse", () => {
  it.each(goodStrict)("%s is valid under strict validation and keeps its name", (s) => {
    expect(Repository.parse(s, { strict: true }).name).toBe(s);
  });

  it.each([...goodStrict, ...goodWeak])("%s is valid under weak validation", (s) => {
    expect(() => Repository.parse(s)).not.toThrow();
  });

  it.each(goodWeak)("%s needs a registry under strict validation", (s) => {
    expect(repositoryError(s, { strict: true }).code).toBe("HOIST_NAME_INVALID_REGISTRY");
  });

  it.each([
    ["white space", "HOIST_NAME_INVALID_REPOSITORY", '" "'],
    ["b@char/image", "HOIST_NAME_INVALID_REPOSITORY", '"@"'],
    ["", "HOIST_NAME_INVALID_REPOSITORY", "no repository name"],
    ["gcr.io/", "HOIST_NAME_INVALID_REPOSITORY", "empty"],
    ["ubuntu:latest", "HOIST_NAME_INVALID_REPOSITORY", "tag or a port"],
    ["Ubuntu", "HOIST_NAME_INVALID_REPOSITORY", "lowercase"],
    ["gcr.io/Project/image", "HOIST_NAME_INVALID_REPOSITORY", '"P"'],
    ["white space.io/foo", "HOIST_NAME_INVALID_REGISTRY", '" "'],
  ])("%j is rejected with %s", (s, code, detail) => {
    for (const opts of [undefined, { strict: true }]) {
      const error = repositoryError(s, opts);
      expect(error.code).toBe(code);
      expect(error.operation).toBe("parse repository");
      expect(error.input).toBe(s);
      expect(error.message).toMatch(/^Invalid repository "/);
      expect(error.message).toContain(detail);
    }
  });

  it("splits registry and path like go-containerregistry", () => {
    const repo = Repository.parse("gcr.io/project-id/image", { strict: true });
    expect(repo.registry.host).toBe("gcr.io");
    expect(repo.path).toBe("project-id/image");
    expect(repo.toString()).toBe("gcr.io/project-id/image");
    expect(repo.scope("pull")).toBe("repository:project-id/image:pull");
  });

  // The first component is a registry only when it is "localhost" or has "." or ":".
  it.each([
    ["localhost/foo", "localhost", "foo"],
    ["localhost", "index.docker.io", "library/localhost"],
    ["localhost:5000/foo", "localhost:5000", "foo"],
    ["foo/bar", "index.docker.io", "foo/bar"],
    ["foo.bar/baz", "foo.bar", "baz"],
    ["foo:5000/bar", "foo:5000", "bar"],
    ["192.168.1.1", "index.docker.io", "library/192.168.1.1"],
    ["192.168.1.1/repo", "192.168.1.1", "repo"],
    ["docker.io/ubuntu", "index.docker.io", "library/ubuntu"],
    ["docker.io/library/ubuntu", "index.docker.io", "library/ubuntu"],
    ["index.docker.io/foo/bar", "index.docker.io", "foo/bar"],
    ["[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo"],
    ["::1/repo", "::1", "repo"],
    // No per-component grammar, unlike distribution.
    ["a//b", "index.docker.io", "a//b"],
    ["-foo", "index.docker.io", "library/-foo"],
    ["foo/", "index.docker.io", "foo/"],
    ["/foo", "index.docker.io", "/foo"],
    ["docker///docker", "index.docker.io", "docker///docker"],
    ["____/____", "index.docker.io", "____/____"],
    ["dock..er/docker", "dock..er", "docker"],
    ["-docker.io/docker/docker", "-docker.io", "docker/docker"],
    // A URL is not rejected: "https:" is a host with an empty port (ggcr accepts it too).
    ["https://github.com/docker/docker", "https:", "/github.com/docker/docker"],
  ])("%s is registry %s, path %s", (s, host, path) => {
    const repo = Repository.parse(s);
    expect(repo.registry.host).toBe(host);
    expect(repo.path).toBe(path);
    expect(repo.name).toBe(`${host}/${path}`);
  });

  it("adds library/ only on Docker Hub", () => {
    expect(Repository.parse("ubuntu", { defaultRegistry: "registry.upbound.io" }).name).toBe(
      "registry.upbound.io/ubuntu",
    );
    expect(Repository.parse("docker.io/ubuntu", { defaultRegistry: "gcr.io" }).name).toBe(
      "index.docker.io/library/ubuntu",
    );
  });

  it("requires the library/ path on Docker Hub under strict validation", () => {
    const error = repositoryError("index.docker.io/foo", { strict: true });
    expect(error.code).toBe("HOIST_NAME_INVALID_REPOSITORY");
    expect(error.message).toContain('"index.docker.io/library/foo"');
    expect(Repository.parse("index.docker.io/library/foo", { strict: true }).path).toBe(
      "library/foo",
    );
    expect(Repository.parse("gcr.io/foo", { strict: true }).path).toBe("foo");
  });

  it("checks the character set before the registry", () => {
    expect(repositoryError("bad host.io/UPPER").code).toBe("HOIST_NAME_INVALID_REPOSITORY");
  });
});

describe("repository length limits", () => {
  it("accepts 255 characters and rejects 256", () => {
    expect(Repository.parse(`example.com/${"a".repeat(255)}`).path).toHaveLength(255);
    const error = repositoryError(`example.com/${"a".repeat(256)}`);
    expect(error.code).toBe("HOIST_NAME_INVALID_REPOSITORY");
    expect(error.message).toContain("is 256 characters long; it must be 1 to 255 characters");
  });

  it("counts the path without its registry, nested paths included", () => {
    // distribution's case: 127 "a/" and a final "a" make a 255-character path on Docker Hub.
    const path = `${"a/".repeat(127)}a`;
    expect(Repository.parse(path).path).toBe(path);
    expect(repositoryError(`domain/${"a".repeat(256)}`).code).toBe("HOIST_NAME_INVALID_REPOSITORY");
  });

  it("reports length before characters, counting characters not UTF-16 units", () => {
    expect(repositoryError("A".repeat(300)).message).toContain("300 characters long");
    // 200 astral characters are 400 UTF-16 units but 200 characters: a character problem.
    expect(repositoryError("😀".repeat(200)).message).toContain('contains "😀"');
  });
});

describe("repository children", () => {
  const repo = Repository.parse("example.com/repo", { insecure: true });

  it("builds tags that print their full name and keep the registry's scheme", () => {
    const tag = repo.tag("foo");
    expect(tag.scheme).toBe("http");
    expect(tag.toString()).toBe("example.com/repo:foo");
    expect(tag.name).toBe("example.com/repo:foo");
    expect(tag.context).toBe(repo);
  });

  it("builds digests that print their full name", () => {
    const digest = repo.digest(DIGEST);
    expect(digest.scheme).toBe("http");
    expect(digest.toString()).toBe(`example.com/repo@${DIGEST}`);
    expect(digest.repository).toBe(repo);
  });

  it.each(["", "bad tag", "x".repeat(129), "a:b"])("rejects the tag %j", (t) => {
    expect(() => repo.tag(t)).toThrowError(
      expect.objectContaining({
        code: "HOIST_NAME_INVALID_TAG",
        operation: "create tag",
        input: t,
      }),
    );
  });

  // Unlike go-containerregistry, children are validated: "badf00d" is no digest.
  it.each(["badf00d", "sha256:abc", `sha256:${"A".repeat(64)}`, `md5:${"a".repeat(32)}`])(
    "rejects the digest %j",
    (d) => {
      expect(() => repo.digest(d)).toThrowError(
        expect.objectContaining({
          code: "HOIST_NAME_INVALID_DIGEST",
          operation: "create digest",
          input: d,
        }),
      );
    },
  );
});
