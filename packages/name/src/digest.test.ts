import { describe, expect, it } from "vitest";
import { nameErrorFrom } from "../test/name-error.js";
import { Digest, type NameError, type ParseOptions } from "./index.js";

function digestError(s: string, opts?: ParseOptions): NameError {
  return nameErrorFrom(() => Digest.parse(s, opts));
}

const SHA256 = `sha256:${"deadb33f".repeat(8)}`;
const SHA512 = `sha512:${"0123456789abcdef".repeat(8)}`;

// Facts from go-containerregistry's digest tests.
const goodStrict = [
  `gcr.io/g-convoy/hello-world@${SHA256}`,
  `gcr.io/google.com/project-id/hello-world@${SHA256}`,
  `us.gcr.io/project-id/sub-repo@${SHA256}`,
  `example.text/foo/bar@${SHA256}`,
];
const goodStrictWithTag = [
  `example.text/foo/bar:latest@${SHA256}`,
  `example.text:8443/foo/bar:latest@${SHA256}`,
  `example.text/foo/bar:v1.0.0-alpine@${SHA256}`,
];
const goodWeak = [`namespace/pathcomponent/image@${SHA256}`, `library/ubuntu@${SHA256}`];
const goodWeakWithTag = [`nginx:latest@${SHA256}`, `library/nginx:latest@${SHA256}`];

const bad: Array<[string, string]> = [
  ["gcr.io/project-id/unknown-alg@unknown:abc123", "HOIST_NAME_INVALID_DIGEST"],
  ["gcr.io/project-id/wrong-length@sha256:d34db33fd34db33f", "HOIST_NAME_INVALID_DIGEST"],
  ["gcr.io/project-id/missing-digest@", "HOIST_NAME_INVALID_DIGEST"],
  [`repo@sha256:${":".repeat(64)}`, "HOIST_NAME_INVALID_DIGEST"],
  [`repo@sha256:${"sh".repeat(32)}`, "HOIST_NAME_INVALID_DIGEST"],
  [`repo@${SHA256}@${SHA256}`, "HOIST_NAME_INVALID_REFERENCE"],
  [`library/nginx:@${SHA256}`, "HOIST_NAME_INVALID_TAG"],
];

describe("Digest.parse", () => {
  it.each(goodStrict)("%s is valid under strict validation and keeps its name", (s) => {
    expect(Digest.parse(s, { strict: true }).name).toBe(s);
  });

  it.each(goodStrictWithTag)("%s is valid under strict validation", (s) => {
    const digest = Digest.parse(s, { strict: true });
    expect(digest.toString()).toBe(s);
    expect(digest.name).toBe(s.replace(/:[^:/]*@/, "@"));
  });

  it.each([...goodStrict, ...goodWeak, ...goodWeakWithTag])("%s is valid weakly", (s) => {
    expect(Digest.parse(s).toString()).toBe(s);
  });

  it.each(goodWeak)("%s is invalid under strict validation", (s) => {
    expect(digestError(s, { strict: true }).code).toBe("HOIST_NAME_INVALID_REGISTRY");
  });

  it.each(bad)("%s is rejected with %s", (s, code) => {
    for (const opts of [undefined, { strict: true }]) {
      const error = digestError(s, opts);
      expect(error.code).toBe(code);
      expect(error.operation).toBe("parse digest");
      expect(error.input).toBe(s);
      expect(error.message).toMatch(/^Invalid digest reference "/);
    }
  });

  it("splits the components", () => {
    const s = `gcr.io/project-id/image@${SHA256}`;
    const digest = Digest.parse(s, { strict: true });
    expect(digest.kind).toBe("digest");
    expect(digest.toString()).toBe(s);
    expect(digest.identifier).toBe(SHA256);
    expect(digest.digest).toBe(SHA256);
    expect(digest.algorithm).toBe("sha256");
    expect(digest.hex).toBe("deadb33f".repeat(8));
    expect(digest.registry.host).toBe("gcr.io");
    expect(digest.repository.path).toBe("project-id/image");
    expect(digest.context.toString()).toBe("gcr.io/project-id/image");
    expect(digest.scope("pull")).toBe("repository:project-id/image:pull");
  });

  it("drops the tag from the name and keeps it in toString()", () => {
    const s = `example.text/foo/bar:v1.0.0@${SHA256}`;
    const digest = Digest.parse(s, { strict: true });
    expect(digest.name).toBe(`example.text/foo/bar@${SHA256}`);
    expect(digest.toString()).toBe(s);
    expect(JSON.stringify(digest)).toBe(JSON.stringify(s));
  });

  it("fills in Docker Hub and library/", () => {
    expect(Digest.parse(`ubuntu@${SHA256}`).name).toBe(`index.docker.io/library/ubuntu@${SHA256}`);
    expect(Digest.parse(`docker.io/ubuntu:22.04@${SHA256}`).name).toBe(
      `index.docker.io/library/ubuntu@${SHA256}`,
    );
  });

  // ggcr repeats a default registry without "." or ":" ("myreg/myreg/ubuntu"); we do not.
  it("does not repeat a custom default registry", () => {
    for (const s of [`ubuntu@${SHA256}`, `ubuntu:tag@${SHA256}`]) {
      expect(Digest.parse(s, { defaultRegistry: "myreg" }).name).toBe(`myreg/ubuntu@${SHA256}`);
    }
    expect(Digest.parse(`ubuntu:tag@${SHA256}`, { defaultRegistry: "reg.example" }).name).toBe(
      `reg.example/ubuntu@${SHA256}`,
    );
  });

  it("requires no tag under strict validation", () => {
    expect(Digest.parse(`gcr.io/foo@${SHA256}`, { strict: true }).name).toBe(
      `gcr.io/foo@${SHA256}`,
    );
  });
});

describe("digest validation", () => {
  it.each([
    [SHA256, "sha256"],
    [SHA512, "sha512"],
  ])("accepts %s", (d, algorithm) => {
    const digest = Digest.parse(`gcr.io/foo@${d}`);
    expect(digest.algorithm).toBe(algorithm);
    expect(digest.digest).toBe(d);
  });

  it.each([
    [`sha256:${"a".repeat(63)}`, "has 63 hex characters; it needs exactly 64"],
    [`sha256:${"a".repeat(65)}`, "has 65 hex characters; it needs exactly 64"],
    [`sha256:${"a".repeat(128)}`, "it needs exactly 64"],
    [`sha512:${"a".repeat(64)}`, "has 64 hex characters; it needs exactly 128"],
    [`sha512:${"a".repeat(127)}`, "it needs exactly 128"],
    [`sha256:${"A".repeat(64)}`, "hex digits must be lowercase"],
    [`sha256:${"g".repeat(64)}`, 'contains "g"'],
    [`sha256:${"a".repeat(63)} `, 'contains " "'],
    [`sha384:${"a".repeat(96)}`, 'algorithm "sha384" is not supported'],
    [`SHA256:${"a".repeat(64)}`, 'algorithm "SHA256" is not supported'],
    [`md5:${"a".repeat(32)}`, 'algorithm "md5" is not supported'],
    [`:${"a".repeat(64)}`, 'algorithm "" is not supported'],
    ["a".repeat(64), "has no algorithm"],
    ["sha256", "has no algorithm"],
    ["", 'nothing follows "@"'],
  ])("rejects %s: %s", (d, reason) => {
    const error = digestError(`gcr.io/foo@${d}`);
    expect(error.code).toBe("HOIST_NAME_INVALID_DIGEST");
    expect(error.message).toContain(reason);
  });

  it("validates the digest before the name", () => {
    expect(digestError("BAD NAME@sha256:abc").code).toBe("HOIST_NAME_INVALID_DIGEST");
  });

  it("validates a tag before the digest and explains it", () => {
    const error = digestError(`gcr.io/foo:bad!tag@${SHA256}`);
    expect(error.code).toBe("HOIST_NAME_INVALID_TAG");
    expect(error.message).toContain('the tag "bad!tag" contains "!"');
  });

  it("needs exactly one @", () => {
    expect(digestError("gcr.io/foo").message).toContain('needs "@"');
    expect(digestError("@@").message).toContain('more than one "@"');
    expect(digestError(`@${SHA256}`).code).toBe("HOIST_NAME_INVALID_REPOSITORY");
  });
});
