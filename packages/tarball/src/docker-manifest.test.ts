import { describe, expect, it } from "vitest";
import { cloneDescriptors, parseManifestJson } from "./docker-manifest.js";
import { TarballError } from "./errors.js";

const digest = `sha256:${"a".repeat(64)}`;

function parse(json: unknown, maxBytes?: number) {
  return parseManifestJson(Buffer.from(typeof json === "string" ? json : JSON.stringify(json)), {
    operation: "test",
    maxBytes,
  });
}

function failure(run: () => unknown): TarballError {
  try {
    run();
  } catch (error) {
    expect(TarballError.is(error)).toBe(true);
    return error as TarballError;
  }
  throw new Error("expected a TarballError");
}

describe("parseManifestJson", () => {
  it("reads what docker, go-containerregistry and skopeo write", () => {
    expect(
      parse([
        { Config: "c.json", RepoTags: ["a:1"], Layers: ["l.tar"] },
        { Config: "d.json", RepoTags: null, Layers: ["l.tar"], Parent: "", Extra: 1 },
        {
          Config: "blobs/sha256/x",
          RepoTags: [],
          Layers: [],
          LayerSources: {
            [digest]: { mediaType: "application/vnd.oci.image.layer.v1.tar", size: 3, digest },
          },
        },
      ]),
    ).toEqual([
      { Config: "c.json", RepoTags: ["a:1"], Layers: ["l.tar"] },
      { Config: "d.json", RepoTags: [], Layers: ["l.tar"] },
      {
        Config: "blobs/sha256/x",
        RepoTags: [],
        Layers: [],
        LayerSources: {
          [digest]: expect.objectContaining({
            size: 3,
            mediaType: "application/vnd.oci.image.layer.v1.tar",
          }),
        },
      },
    ]);
  });

  it.each([
    ["not json", "{", "not UTF-8 JSON"],
    ["an object", { Config: "x" }, "expected array"],
    ["a missing Config", [{ Layers: [] }], "[0].Config"],
    ["a non-string layer", [{ Config: "c", Layers: ["a", 2] }], "[0].Layers[1]"],
    [
      "a bad LayerSources key",
      [{ Config: "c", Layers: [], LayerSources: { nope: {} } }],
      "the key is not a digest",
    ],
    [
      "a bad LayerSources digest",
      [
        {
          Config: "c",
          Layers: [],
          LayerSources: { [digest]: { mediaType: "a/b", size: 1, digest: "sha256:../x" } },
        },
      ],
      "invalid digest",
    ],
  ])("refuses %s", (_, json, message) => {
    const error = failure(() => parse(json));
    expect(error.code).toBe("HOIST_TARBALL_INVALID_MANIFEST");
    expect(error.message).toContain("manifest.json");
    expect(error.message).toContain(message);
  });

  it("refuses invalid UTF-8 and documents over the cap", () => {
    expect(
      failure(() => parseManifestJson(Buffer.from([0x5b, 0xff, 0x5d]), { operation: "t" })).code,
    ).toBe("HOIST_TARBALL_INVALID_MANIFEST");
    expect(failure(() => parse([], 1)).message).toContain("larger than the 1 allowed");
  });

  it("copies deeply, so callers cannot change a tarball's view", () => {
    const parsed = parse([{ Config: "c", RepoTags: ["a:1"], Layers: ["l"] }]);
    const copy = cloneDescriptors(parsed);
    copy[0]?.RepoTags.push("b:2");
    expect(parsed[0]?.RepoTags).toEqual(["a:1"]);
  });
});
