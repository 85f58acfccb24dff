import { getEventListeners } from "node:events";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { randomImage, randomIndex } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { createLayout, openLayout } from "../src/index.js";
import { useTempDirectories } from "./helpers.js";

const tempDirectory = useTempDirectories("signals");

// A program often passes one long-lived signal (its shutdown signal) to every call. A listener
// left on it by a finished call is a leak: it keeps the call's state alive for as long as the
// signal lives, and after ten of them Node prints a MaxListenersExceededWarning.
describe("a caller's signal after each operation", () => {
  it("carries no listener left behind by a finished operation", async () => {
    const signal = new AbortController().signal;
    // A file stream lets go of the signal when it closes, a moment after its last byte was read;
    // a listener that stays for a second stayed for good.
    const left = async () => {
      const deadline = Date.now() + 1000;
      while (getEventListeners(signal, "abort").length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return getEventListeners(signal, "abort").length;
    };
    const layout = await createLayout(await tempDirectory(), { signal });
    expect(await left()).toBe(0);

    const steps: Array<[string, () => Promise<unknown>]> = [
      [
        "appendImage",
        () =>
          layout.appendImage(randomImage({ layers: 3, seed: "a" }), {
            refName: "a",
            concurrency: 12,
            signal,
          }),
      ],
      [
        "appendIndex",
        () =>
          layout.appendIndex(randomIndex({ images: 2, layers: 2, seed: "i" }), {
            refName: "i",
            signal,
          }),
      ],
      ["writeImage", () => layout.writeImage(randomImage({ layers: 1, seed: "w" }), { signal })],
      [
        "replaceImage",
        () =>
          layout.replaceImage(randomImage({ layers: 1, seed: "r" }), "a", { refName: "a", signal }),
      ],
      ["writeBlob", () => layout.writeBlob(Readable.from([Buffer.from("blob")]), { signal })],
      [
        "image and its layers",
        async () => {
          const image = await layout.image("a", { signal });
          for (const layer of await image.layers({ signal })) {
            await buffer(await layer.compressed({ signal }));
          }
        },
      ],
      [
        "blob",
        async () => {
          const [descriptor] = (await layout.indexManifest({ signal })).manifests;
          if (!descriptor) throw new Error("the layout has no manifest");
          await buffer(await layout.blob(descriptor.digest, { signal }));
          await layout.blobBytes(descriptor.digest, { signal });
        },
      ],
      ["findImages", () => layout.findImages(() => true, { signal })],
      ["removeDescriptors", () => layout.removeDescriptors("i", { signal })],
      ["garbageCollect", () => layout.garbageCollect({ signal })],
      ["openLayout", () => openLayout(layout.path, { signal })],
    ];
    for (const [name, step] of steps) {
      // Twelve times: more than the ten listeners Node tolerates before warning.
      for (let round = 0; round < 12; round++) await step();
      expect({ name, listeners: await left() }).toEqual({ name, listeners: 0 });
    }
  });
});
