import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Hash, type Image, MediaType, OciError, randomImage } from "@hoist/oci";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLayout, LayoutError, openLayout, REF_NAME_ANNOTATION } from "../src/index.js";
import { imageDigests, snapshot, useTempDirectories } from "./helpers.js";

const tempDirectory = useTempDirectories("properties");

const HEX = [..."0123456789abcdef"];
const hex64 = fc
  .array(fc.constantFrom(...HEX), { minLength: 64, maxLength: 64 })
  .map((c) => c.join(""));
// Digests as a hostile writer of index.json would vary them.
const digestField = fc.oneof(
  hex64.map((hex) => `sha256:${hex}`),
  hex64.map((hex) => `sha256:${hex.slice(0, 60)}/../`),
  fc.string(),
  fc.constantFrom("sha256:../../../outside/secret", "/etc/passwd", "sha256:", ".."),
  fc.jsonValue(),
);
const descriptorLike = fc.record(
  {
    mediaType: fc.oneof(
      fc.constantFrom(MediaType.OCI_MANIFEST, MediaType.OCI_INDEX),
      fc.string(),
      fc.jsonValue(),
    ),
    size: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.jsonValue()),
    digest: digestField,
    annotations: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.jsonValue())),
    platform: fc.record({ os: fc.string(), architecture: fc.string() }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const indexLike = fc.oneof(
  fc.record(
    {
      schemaVersion: fc.oneof(fc.constant(2), fc.jsonValue()),
      mediaType: fc.oneof(fc.constant(MediaType.OCI_INDEX), fc.string()),
      manifests: fc.array(descriptorLike, { maxLength: 4 }),
    },
    { requiredKeys: ["manifests"] },
  ),
  fc.jsonValue(),
);

describe("properties", () => {
  it("any index.json yields a layout whose digests are all valid, or a LayoutError, and writes nothing", async () => {
    const sandbox = await tempDirectory();
    const root = join(sandbox, "layout");
    await mkdir(join(root, "blobs"), { recursive: true });
    await writeFile(join(root, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await mkdir(join(sandbox, "outside"));
    await writeFile(join(sandbox, "outside", "secret"), "secret");
    await fc.assert(
      fc.asyncProperty(indexLike, async (index) => {
        await writeFile(join(root, "index.json"), JSON.stringify(index) ?? "");
        const before = await snapshot(sandbox);
        try {
          const layout = await openLayout(root);
          for (const entry of (await layout.indexManifest()).manifests) {
            expect(Hash.isValid(String(entry.digest))).toBe(true);
          }
          // Lookups over such an index never leave the layout either. They fail as a layout
          // error, or as @hoist/oci's verification error when a descriptor fails its checks
          // (a size over the cap, say), as the README says.
          await layout.image("anything").catch((error: unknown) => {
            expect(LayoutError.is(error) || OciError.is(error), String(error)).toBe(true);
          });
        } catch (error) {
          expect(LayoutError.is(error), String(error)).toBe(true);
          expect((error as LayoutError).code).toBe("HOIST_LAYOUT_INVALID_INDEX");
        }
        expect(await snapshot(sandbox)).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });

  it("index.json and blobs/ follow any sequence of appends, replaces, removals and collections", async () => {
    const images = Array.from({ length: 4 }, (_, n) =>
      randomImage({ layers: 2, layerSize: 64, seed: `model-${n}` }),
    );
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant("append" as const),
        image: fc.nat(3),
        ref: fc.constantFrom("a", "b", "c"),
      }),
      fc.record({
        kind: fc.constant("replace" as const),
        image: fc.nat(3),
        ref: fc.constantFrom("a", "b", "c"),
      }),
      fc.record({ kind: fc.constant("remove" as const), ref: fc.constantFrom("a", "b", "c") }),
      fc.record({ kind: fc.constant("collect" as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 10 }), async (operations) => {
        const layout = await createLayout(join(await tempDirectory(), "model"));
        let model: Array<{ ref: string; image: Image }> = [];
        for (const op of operations) {
          if (op.kind === "append") {
            await layout.appendImage(images[op.image] as Image, { refName: op.ref });
            model.push({ ref: op.ref, image: images[op.image] as Image });
          } else if (op.kind === "replace") {
            await layout.replaceImage(images[op.image] as Image, op.ref, { refName: op.ref });
            model = model.filter((entry) => entry.ref !== op.ref);
            model.push({ ref: op.ref, image: images[op.image] as Image });
          } else if (op.kind === "remove") {
            await layout.removeDescriptors(op.ref);
            model = model.filter((entry) => entry.ref !== op.ref);
          } else {
            await layout.garbageCollect();
          }
        }
        const { manifests } = await layout.indexManifest();
        expect(
          manifests.map((m) => [m.annotations?.[REF_NAME_ANNOTATION], String(m.digest)]),
        ).toEqual(
          await Promise.all(
            model.map(async (entry) => [entry.ref, String(await entry.image.digest())]),
          ),
        );
        await layout.garbageCollect();
        const reachable = new Set<string>();
        for (const entry of model)
          for (const digest of await imageDigests(entry.image)) reachable.add(digest);
        const present = (await readdir(join(layout.path, "blobs", "sha256")).catch(() => [])).map(
          (hex) => `sha256:${hex}`,
        );
        expect(new Set(present)).toEqual(reachable);
      }),
      { numRuns: 25 },
    );
  });
});
