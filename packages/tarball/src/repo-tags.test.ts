import { Digest, Tag } from "@hoist/name";
import { describe, expect, it } from "vitest";
import { TarballError } from "./errors.js";
import { repoTagName, repoTagOf, tagName } from "./repo-tags.js";

const digest = `sha256:${"b".repeat(64)}`;

describe("RepoTags as go-containerregistry writes them", () => {
  it.each([
    ["ubuntu", "ubuntu:latest"],
    ["ubuntu:latest", "ubuntu:latest"],
    ["ubuntu:24.04", "ubuntu:24.04"],
    ["localhost:5000/app", "localhost:5000/app:latest"],
    ["docker.io/library/ubuntu:1", "docker.io/library/ubuntu:1"],
    [Tag.parse("ghcr.io/a/b"), "ghcr.io/a/b:latest"],
  ])("%s is recorded as %j", (reference, expected) => {
    expect(repoTagOf(reference, "t")).toBe(expected);
  });

  it("records no tag for a digest reference", () => {
    expect(repoTagOf(`ubuntu@${digest}`, "t")).toBeUndefined();
    expect(repoTagOf(Digest.parse(`ubuntu@${digest}`), "t")).toBeUndefined();
  });

  it("refuses references that do not parse, with the reason", () => {
    try {
      repoTagOf("Bad/Name", "t");
      expect.unreachable();
    } catch (error) {
      expect(TarballError.is(error) && error.code).toBe("HOIST_TARBALL_INVALID_ARGUMENT");
      expect((error as Error).message).toContain('"Bad/Name"');
    }
  });
});

describe("finding images by tag", () => {
  it("compares fully qualified names", () => {
    expect(tagName("ubuntu", "t")).toBe("index.docker.io/library/ubuntu:latest");
    expect(repoTagName("docker.io/library/ubuntu:latest")).toBe(tagName("ubuntu", "t"));
    expect(repoTagName("not a tag")).toBeUndefined();
    expect(repoTagName(`a@${digest}`)).toBeUndefined();
  });

  it("refuses a digest where a tag is needed", () => {
    expect(() => tagName(`a@${digest}`, "t")).toThrow(/digest reference/);
  });
});
