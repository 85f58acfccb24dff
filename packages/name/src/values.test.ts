import { describe, expect, it } from "vitest";
import { Digest, parseReference, Registry, Repository, Tag } from "./index.js";

const SHA256 = `sha256:${"0".repeat(64)}`;

describe("values", () => {
  const tag = parseReference("gcr.io/foo/bar:v1");
  const digest = parseReference(`gcr.io/foo/bar:v1@${SHA256}`);

  it("are frozen", () => {
    for (const value of [tag, digest, tag.repository, tag.registry, digest.registry]) {
      expect(Object.isFrozen(value)).toBe(true);
      expect(() => {
        (value as unknown as { name: string }).name = "changed";
      }).toThrow(TypeError);
    }
  });

  it("cannot be constructed directly", () => {
    const registry = Registry.parse("gcr.io");
    const repository = Repository.parse("gcr.io/foo");
    type Ctor = new (...args: unknown[]) => unknown;
    expect(() => new (Registry as unknown as Ctor)(undefined, "gcr.io", false)).toThrow(
      /Registry cannot be constructed directly; use Registry.parse\(\)/,
    );
    expect(() => new (Repository as unknown as Ctor)(undefined, registry, "x")).toThrow(TypeError);
    expect(() => new (Tag as unknown as Ctor)(undefined, repository, "x", "x")).toThrow(TypeError);
    expect(() => new (Digest as unknown as Ctor)(undefined, repository, SHA256, "x")).toThrow(
      TypeError,
    );
  });

  it("serialise to JSON as their string forms", () => {
    expect(
      JSON.parse(
        JSON.stringify({
          tag,
          digest,
          repository: tag.repository,
          registry: tag.registry,
          list: [parseReference("ubuntu")],
        }),
      ),
    ).toEqual({
      tag: "gcr.io/foo/bar:v1",
      digest: `gcr.io/foo/bar:v1@${SHA256}`,
      repository: "gcr.io/foo/bar",
      registry: "gcr.io",
      list: ["ubuntu"],
    });
  });

  it("work in template strings as the input", () => {
    expect(`${parseReference("ubuntu")}`).toBe("ubuntu");
    expect(`${parseReference("ubuntu").repository}`).toBe("index.docker.io/library/ubuntu");
  });

  it("expose the registry and repository from references", () => {
    expect(tag.registry).toBe(tag.repository.registry);
    expect(digest.context).toBe(digest.repository);
    expect(digest.registry.host).toBe("gcr.io");
  });

  it("share one Docker Hub registry unless insecure", () => {
    expect(parseReference("ubuntu").registry).toBe(parseReference("docker.io/alpine").registry);
    expect(parseReference("ubuntu", { insecure: true }).registry).not.toBe(
      parseReference("ubuntu").registry,
    );
  });

  it("round-trip through JSON by parsing the string again", () => {
    const parsed = JSON.parse(JSON.stringify({ ref: digest })) as { ref: string };
    expect(parseReference(parsed.ref).name).toBe(digest.name);
  });
});
