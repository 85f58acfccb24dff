import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import {
  createImage,
  type Descriptor,
  OciError,
  randomImage,
  randomIndex,
  rebase,
  setConfigFile,
  validateImage,
  validateIndex,
} from "./index.js";

async function failure(promise: Promise<unknown>): Promise<OciError> {
  try {
    await promise;
  } catch (error) {
    if (OciError.is(error)) return error;
    throw error;
  }
  throw new Error("expected a validation failure");
}

describe("validateImage and validateIndex", () => {
  it("pass for sound content, fully and fast", async () => {
    const image = randomImage({ layers: 2, seed: "valid" });
    await validateImage(image);
    await validateImage(image, { fast: true });
    await validateIndex(randomIndex({ images: 2, seed: "valid-index" }));
  });

  it("name a layer whose bytes do not match its digest", async () => {
    const image = randomImage({ layers: 2, seed: "lying" });
    const manifest = await image.manifest();
    const blobs = new Map<string, Uint8Array>([
      [String(manifest.config.digest), await image.rawConfigFile()],
    ]);
    for (const layer of await image.layers()) {
      blobs.set(String(await layer.digest()), await buffer(await layer.compressed()));
    }
    const victim = String(manifest.layers[1]?.digest);
    const bytes = Buffer.from(blobs.get(victim) as Uint8Array);
    bytes.writeUInt8((bytes.at(-1) ?? 0) ^ 0xff, bytes.length - 1);
    blobs.set(victim, bytes);
    const lying = createImage({
      rawManifest: await image.rawManifest(),
      source: {
        blob: async (d: Descriptor) => Readable.from([blobs.get(String(d.digest)) as Uint8Array]),
      },
    });
    const error = await failure(validateImage(lying));
    expect(error.code).toBe("HOIST_OCI_VALIDATION_FAILED");
    expect(error.message).toMatch(/^image failed validation: layer 1: /);
    expect(error.message).not.toMatch(/layer 0/);
    // Fast mode does not read layer bytes, so it finds nothing wrong.
    await validateImage(lying, { fast: true });
  });

  it("name a config whose diff_ids disagree with the layers", async () => {
    const image = randomImage({ layers: 1, seed: "diffids" });
    const config = await image.configFile();
    const wrong = setConfigFile(image, {
      ...config,
      rootfs: { type: "layers", diff_ids: [`sha256:${"1".repeat(64)}`] as never },
    });
    const error = await failure(validateImage(wrong, { fast: true }));
    expect(error.message).toMatch(
      /layer 0: diffID is sha256:[0-9a-f]{64}, config says sha256:1{64}/,
    );
  });
});

describe("rebase", () => {
  it("swaps the base layers and keeps the image's own", async () => {
    const { appendLayers } = await import("./index.js");
    const oldBase = randomImage({ layers: 1, seed: "old-base" });
    const top = (await randomImage({ layers: 1, seed: "app-layer" }).layers())[0];
    if (!top) throw new Error("no layer");
    const app = appendLayers(oldBase, [{ layer: top, history: { created_by: "COPY app /app" } }]);
    const newBase = randomImage({
      layers: 2,
      seed: "new-base",
      platform: { os: "linux", architecture: "arm64" },
    });

    const rebased = await rebase(app, oldBase, newBase);
    const digests = async (image: typeof app) =>
      Promise.all((await image.layers()).map(async (l) => String(await l.digest())));
    expect(await digests(rebased)).toEqual([
      ...(await digests(newBase)),
      String(await top.digest()),
    ]);
    const config = await rebased.configFile();
    expect(config.architecture).toBe("arm64");
    expect(config.history?.at(-1)?.created_by).toBe("COPY app /app");
    await validateImage(rebased);
  });

  it("refuses an image that is not based on the old base", async () => {
    const error = await failure(
      rebase(randomImage({ seed: "a" }), randomImage({ seed: "b" }), randomImage({ seed: "c" })),
    );
    expect(error.code).toBe("HOIST_OCI_INVALID_ARGUMENT");
    expect(error.message).toMatch(/is not based on .* \(layer 0 mismatch\)/);
  });
});
