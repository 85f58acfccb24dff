import { describe, expect, it } from "vitest";
import { nameErrorFrom } from "../test/name-error.js";
import { NameError, type ParseOptions, Tag } from "./index.js";

function tagError(s: string, opts?: ParseOptions): NameError {
  return nameErrorFrom(() => Tag.parse(s, opts));
}

// Facts from go-containerregistry's tag tests.
const goodStrict = [
  "gcr.io/g-convoy/hello-world:latest",
  "gcr.io/google.com/g-convoy/hello-world:latest",
  "gcr.io/project-id/with-nums:v2",
  "us.gcr.io/project-id/image:with.period.in.tag",
  "gcr.io/project-id/image:w1th-alpha_num3ric.PLUScaps",
  "domain.with.port:9001/image:latest",
];

const goodWeak = [
  "namespace/pathcomponent/image",
  "library/ubuntu",
  "gcr.io/project-id/implicit-latest",
  "www.example.test:12345/repo/path",
];

const bad: Array<[string, string]> = [
  ["gcr.io/project-id/bad_chars:c@n'tuse", '"@"'],
  ["gcr.io/project-id/wrong-length:white space", '" "'],
  [
    "gcr.io/project-id/too-many-chars:thisisthetagthatneverendsitgoesonandonmyfriendsomepeoplestartedtaggingitnotknowingwhatitwasandtheyllcontinuetaggingitforeverjustbecausethisisthetagthatneverends",
    "1 to 128 characters",
  ],
  ["library/ubuntu:", 'nothing follows the ":"'],
];

describe("Tag.parse", () => {
  it.each(goodStrict)("%s is valid under strict validation and keeps its name", (s) => {
    const tag = Tag.parse(s, { strict: true });
    expect(tag.name).toBe(s);
    expect(tag.toString()).toBe(s);
  });

  it.each([...goodStrict, ...goodWeak])("%s is valid under weak validation", (s) => {
    expect(Tag.parse(s).toString()).toBe(s);
  });

  it.each(goodWeak)("%s is invalid under strict validation", (s) => {
    expect(() => Tag.parse(s, { strict: true })).toThrowError(NameError);
  });

  it.each(bad)("%s is rejected (%s)", (s, detail) => {
    for (const opts of [undefined, { strict: true }]) {
      const error = tagError(s, opts);
      expect(error.message).toContain(detail);
      expect(error.operation).toBe("parse tag");
      expect(error.message).toMatch(/^Invalid tag reference "/);
    }
  });

  it("splits the components", () => {
    const tag = Tag.parse("gcr.io/project-id/image:latest", { strict: true });
    expect(tag.kind).toBe("tag");
    expect(tag.registry.host).toBe("gcr.io");
    expect(tag.repository.path).toBe("project-id/image");
    expect(tag.tag).toBe("latest");
    expect(tag.identifier).toBe("latest");
    expect(tag.context.toString()).toBe("gcr.io/project-id/image");
    expect(tag.context).toBe(tag.repository);
    expect(tag.scope("pull")).toBe("repository:project-id/image:pull");
  });

  it("fills in every default", () => {
    const tag = Tag.parse("ubuntu");
    expect(tag.name).toBe("index.docker.io/library/ubuntu:latest");
    expect(tag.toString()).toBe("ubuntu");
    expect(tag.scheme).toBe("https");
  });

  it("uses the defaultTag option", () => {
    expect(Tag.parse("ubuntu", { defaultTag: "other" }).name).toBe(
      "index.docker.io/library/ubuntu:other",
    );
    expect(Tag.parse("ubuntu:given", { defaultTag: "other" }).tag).toBe("given");
  });

  // The tag is after the last ":" only when no "/" follows it.
  it.each([
    ["host:5000/repo", "host:5000/repo:latest"],
    ["host:5000/repo:5000", "host:5000/repo:5000"],
    ["test.com:5000", "index.docker.io/library/test.com:5000"],
    ["foo_bar.com:8080", "index.docker.io/library/foo_bar.com:8080"],
    ["foo/foo_bar.com:8080", "index.docker.io/foo/foo_bar.com:8080"],
    ["localhost:5000", "index.docker.io/library/localhost:5000"],
    ["lowercase:Uppercase", "index.docker.io/library/lowercase:Uppercase"],
    ["ubuntu:.hidden", "index.docker.io/library/ubuntu:.hidden"],
    ["ubuntu:-dash", "index.docker.io/library/ubuntu:-dash"],
    ["[::1]:5000/repo:tag", "[::1]:5000/repo:tag"],
    ["[2001:db8::1]/repo", "[2001:db8::1]/repo:latest"],
  ])("%s is %s", (s, name) => {
    expect(Tag.parse(s).name).toBe(name);
  });

  it.each([
    [`gcr.io/foo:${"a".repeat(128)}`, true],
    [`gcr.io/foo:${"a".repeat(129)}`, false],
    ["gcr.io/foo:a", true],
  ])("tag length limit: %s valid=%s", (s, valid) => {
    if (valid) expect(Tag.parse(s).tag.length).toBeGreaterThan(0);
    else expect(tagError(s).code).toBe("HOIST_NAME_INVALID_TAG");
  });

  it.each([
    ["[2001:db8::1]", "HOIST_NAME_INVALID_TAG"],
    ["[2001:db8::1]:5000", "HOIST_NAME_INVALID_REPOSITORY"],
    ["Uppercase:tag", "HOIST_NAME_INVALID_REPOSITORY"],
    [":justtag", "HOIST_NAME_INVALID_REPOSITORY"],
    ["ubuntu:é", "HOIST_NAME_INVALID_TAG"],
    ["ubuntu@sha256:abc", "HOIST_NAME_INVALID_REFERENCE"],
  ])("%s is rejected with %s", (s, code) => {
    expect(tagError(s).code).toBe(code);
  });

  it("points digest references elsewhere", () => {
    expect(tagError(`ubuntu@sha256:${"a".repeat(64)}`).message).toContain("Digest.parse");
  });

  it("requires an explicit tag under strict validation, checked before the registry", () => {
    const error = tagError("ubuntu", { strict: true });
    expect(error.code).toBe("HOIST_NAME_INVALID_TAG");
    expect(error.message).toContain("strict validation requires an explicit tag");
    expect(tagError("ubuntu:latest", { strict: true }).code).toBe("HOIST_NAME_INVALID_REGISTRY");
    expect(tagError("docker.io/ubuntu:latest", { strict: true }).code).toBe(
      "HOIST_NAME_INVALID_REPOSITORY",
    );
  });
});
