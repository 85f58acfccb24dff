import {
  appendManifests,
  type Descriptor,
  emptyIndex,
  Hash,
  MediaType,
  randomImage,
  randomIndex,
} from "@hoist/oci";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createLayout,
  type Layout,
  matchAnnotation,
  matchDigests,
  matchMediaTypes,
  matchPlatforms,
  matchRefName,
  REF_NAME_ANNOTATION,
} from "../src/index.js";
import { descriptorFor, layoutFailure, snapshot, useTempDirectories } from "./helpers.js";

const tempDirectory = useTempDirectories("lookup");

const platforms = [
  { os: "linux", architecture: "amd64" },
  { os: "linux", architecture: "arm64", variant: "v8" },
];
const alpha = randomImage({ layers: 1, seed: "alpha" });
const beta = randomImage({ layers: 2, seed: "beta" });
const multi = randomIndex({ images: 2, seed: "multi", platforms });
const nested = appendManifests(emptyIndex(), [multi]);

describe("finding entries", () => {
  let layout: Layout;
  beforeAll(async () => {
    layout = await createLayout(await tempDirectory());
    await layout.appendImage(alpha, { refName: "alpha", annotations: { team: "a" } });
    await layout.appendImage(beta, { refName: "beta", platform: "linux/arm64/v8" });
    await layout.appendImage(beta, { refName: "beta-again" });
    await layout.appendIndex(multi, { refName: "multi" });
    await layout.appendIndex(nested, { refName: "nested" });
  });

  it("finds by reference name, digest, annotation, media type and platform", async () => {
    expect(String(await (await layout.image("alpha")).digest())).toBe(String(await alpha.digest()));
    expect(String(await (await layout.image(await beta.digest())).digest())).toBe(
      String(await beta.digest()),
    );
    expect(String(await (await layout.image(String(await alpha.digest()))).digest())).toBe(
      String(await alpha.digest()),
    );
    expect(String(await (await layout.image(matchAnnotation("team", "a"))).digest())).toBe(
      String(await alpha.digest()),
    );
    expect(String(await (await layout.index("multi")).digest())).toBe(String(await multi.digest()));
    const indexes = await layout.findDescriptors(matchMediaTypes([MediaType.OCI_INDEX]));
    expect(indexes.map((d) => d.annotations?.[REF_NAME_ANNOTATION])).toEqual(["multi", "nested"]);
    const arm = await layout.findDescriptors(matchPlatforms(["linux/arm64/v8"]));
    expect(arm.map((d) => d.annotations?.[REF_NAME_ANNOTATION])).toEqual(["beta"]);
  });

  it("searches nested indexes only when asked (findX) or when the top level has no match (image)", async () => {
    const arm = matchPlatforms(["linux/arm64"], { by: "satisfies" });
    expect(await layout.findImages(arm)).toHaveLength(1); // beta's entry at the top
    const deep = await layout.findImages(arm, { recursive: true });
    // beta at the top, and multi's arm64 child, which both multi and nested reach (once each level).
    expect(deep).toHaveLength(2);
    const { manifests } = await multi.indexManifest();
    const armChild = manifests[1] as Descriptor;
    expect(String(await (await layout.image(armChild.digest)).digest())).toBe(
      String(armChild.digest),
    );
    expect(await layout.findIndexes(matchDigests([await multi.digest()]))).toHaveLength(1);
    expect(
      await layout.findIndexes(matchDigests([await multi.digest()]), { recursive: true }),
    ).toHaveLength(2);
  });

  it("picks an image from an index by platform, as a pull does", async () => {
    const { manifests } = await multi.indexManifest();
    const arm = await layout.image("multi", { platform: { os: "linux", architecture: "arm64" } });
    expect(String(await arm.digest())).toBe(String(manifests[1]?.digest));
    const amd = await layout.image("nested", { platform: "linux/amd64" });
    expect(String(await amd.digest())).toBe(String(manifests[0]?.digest));
    await layoutFailure(
      layout.image("multi", { platform: "linux/s390x" }),
      "HOIST_LAYOUT_NOT_FOUND",
    );
    const compatible = await layout.findDescriptors(
      matchPlatforms(["linux/arm64"], { by: "compatible" }),
      {
        recursive: true,
      },
    );
    expect(compatible.map((d) => String(d.digest))).toContain(String(manifests[1]?.digest));
  });

  it("fails with typed errors when nothing, several things or the wrong kind match", async () => {
    await layoutFailure(layout.image("missing"), "HOIST_LAYOUT_NOT_FOUND");
    await layoutFailure(layout.image(Hash.compute("nothing")), "HOIST_LAYOUT_NOT_FOUND");
    const ambiguous = await layoutFailure(
      layout.image(matchMediaTypes([MediaType.OCI_MANIFEST])),
      "HOIST_LAYOUT_AMBIGUOUS",
    );
    expect(ambiguous.message).toContain(String(await alpha.digest()));
    // Two entries with the same digest are one image, not an ambiguity.
    expect(String(await (await layout.image(matchPlatforms(["linux/arm64/v8"]))).digest())).toBe(
      String(await beta.digest()),
    );
    await layoutFailure(layout.image("multi"), "HOIST_LAYOUT_WRONG_KIND");
    await layoutFailure(layout.index("alpha"), "HOIST_LAYOUT_WRONG_KIND");
    await layoutFailure(layout.image(""), "HOIST_LAYOUT_INVALID_ARGUMENT");
    await layoutFailure(layout.image(42 as unknown as string), "HOIST_LAYOUT_INVALID_ARGUMENT");
    await layoutFailure(
      layout.image("alpha", { platform: "linux//" }),
      "HOIST_LAYOUT_INVALID_ARGUMENT",
    );
  });

  it("matchers follow go-containerregistry's match package", () => {
    const entry: Descriptor = {
      ...descriptorFor("x", MediaType.OCI_MANIFEST),
      annotations: { [REF_NAME_ANNOTATION]: "v1", k: "v" },
      platform: { os: "linux", architecture: "arm", variant: "v7" },
    };
    const bare = descriptorFor("y", `${MediaType.OCI_INDEX}; charset=utf-8`);
    expect(matchRefName("v1")(entry)).toBe(true);
    expect(matchRefName("v2")(entry)).toBe(false);
    expect(matchAnnotation("k", "v")(entry)).toBe(true);
    expect(matchAnnotation("k", "w")(entry)).toBe(false);
    expect(matchAnnotation("toString", "x")(bare)).toBe(false);
    expect(matchMediaTypes([MediaType.OCI_INDEX])(bare)).toBe(true);
    expect(matchDigests([Hash.compute("x")])(entry)).toBe(true);
    expect(matchPlatforms(["linux/arm/v7"])(entry)).toBe(true);
    expect(matchPlatforms(["linux/arm"])(entry)).toBe(false); // equals: the variant differs
    expect(matchPlatforms(["linux/arm"], { by: "satisfies" })(entry)).toBe(true);
    expect(matchPlatforms(["linux/arm64"], { by: "compatible" })(entry)).toBe(true);
    expect(matchPlatforms(["linux/amd64"], { by: "compatible" })(entry)).toBe(false);
    // Entries without a platform never match a platform.
    expect(matchPlatforms(["linux/amd64"], { by: "satisfies" })(bare)).toBe(false);
  });
});

describe("editing index.json", () => {
  it("replaces entries by reference name and reports what it removed", async () => {
    const layout = await createLayout(await tempDirectory());
    const first = await layout.appendImage(alpha, { refName: "latest" });
    await layout.appendImage(beta, { refName: "stable" });
    const result = await layout.replaceImage(beta, "latest", { refName: "latest" });
    expect(result.removed).toEqual([first]);
    expect(String(result.descriptor.digest)).toBe(String(await beta.digest()));
    const { manifests } = await layout.indexManifest();
    expect(manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION])).toEqual([
      "stable",
      "latest",
    ]);
    const indexResult = await layout.replaceIndex(multi, matchRefName("stable"), {
      refName: "stable",
    });
    expect(indexResult.removed.map((d) => String(d.digest))).toEqual([String(await beta.digest())]);
    expect(String(await (await layout.index("stable")).digest())).toBe(
      String(await multi.digest()),
    );
    // A replace that matches nothing appends.
    expect((await layout.replaceImage(alpha, "nothing", { refName: "new" })).removed).toEqual([]);
    expect(await layout.findDescriptors(matchRefName("new"))).toHaveLength(1);
  });

  it("removes entries and leaves blobs to garbage collection", async () => {
    const layout = await createLayout(await tempDirectory());
    await layout.appendImage(alpha, { refName: "a" });
    await layout.appendImage(beta, { refName: "b" });
    const removed = await layout.removeDescriptors("a");
    expect(removed.map((d) => String(d.digest))).toEqual([String(await alpha.digest())]);
    expect((await layout.indexManifest()).manifests).toHaveLength(1);
    expect(await layout.hasBlob(await alpha.digest())).toBe(true);
    expect(await layout.removeDescriptors(matchRefName("a"))).toEqual([]);
  });

  it("appends descriptors after validating them", async () => {
    const layout = await createLayout(await tempDirectory());
    const bytes = Buffer.from('{"artifact":true}');
    const { digest } = await layout.writeBlob(bytes);
    const entry = await layout.appendDescriptor({
      mediaType: "application/vnd.example+json",
      size: bytes.length,
      digest,
      annotations: { [REF_NAME_ANNOTATION]: "artifact" },
    });
    expect((await layout.findDescriptors("artifact"))[0]).toEqual(entry);
    await layoutFailure(layout.image("artifact"), "HOIST_LAYOUT_WRONG_KIND");
    const before = await snapshot(layout.path);
    await layoutFailure(
      layout.appendDescriptor({
        mediaType: "a/b",
        size: 1,
        digest: "sha256:../../x" as unknown as Hash,
      }),
      "HOIST_LAYOUT_INVALID_DIGEST",
    );
    await layoutFailure(
      layout.appendDescriptor({ mediaType: "a/b", digest } as unknown as Descriptor),
      "HOIST_LAYOUT_INVALID_ARGUMENT",
    );
    await layoutFailure(
      layout.appendDescriptor({ mediaType: "not a media type", size: 1, digest }),
      "HOIST_LAYOUT_INVALID_ARGUMENT",
    );
    expect(await snapshot(layout.path)).toEqual(before);
  });

  it.each([
    ["a reference name outside the spec's grammar", { refName: "../escape" }],
    ["an empty reference name", { refName: "" }],
    ["a non-string annotation", { annotations: { a: 1 as unknown as string } }],
    [
      "annotations that are not an object",
      { annotations: "a=b" as unknown as Record<string, string> },
    ],
    ["a bad platform", { platform: "linux/arm64/v8/extra" }],
    ["urls that are not strings", { urls: [1 as unknown as string] }],
    ["a zero concurrency", { concurrency: 0 }],
  ])("refuses %s before writing anything", async (_what, options) => {
    const layout = await createLayout(await tempDirectory());
    const before = await snapshot(layout.path);
    await layoutFailure(layout.appendImage(alpha, options), "HOIST_LAYOUT_INVALID_ARGUMENT");
    expect(await snapshot(layout.path)).toEqual(before);
  });
});
