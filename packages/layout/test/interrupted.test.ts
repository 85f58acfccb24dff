import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { fileURLToPath, pathToFileURL } from "node:url";
import { appendLayers, appendManifests, emptyIndex, Hash, randomImage } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { createLayout, type Layout, openLayout } from "../src/index.js";
import { controlledLayer, snapshot, useTempDirectories } from "./helpers.js";

const tempDirectory = useTempDirectories("interrupted");

async function temporaryFiles(layout: Layout): Promise<string[]> {
  return (await readdir(layout.path)).filter((name) => name.startsWith(".hoist-tmp-"));
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const big = Buffer.alloc(256 * 1024, 0x5a);
const bigDigest = Hash.compute(big);

describe("interrupted writes", () => {
  it("shows no blob under its name until it is complete and verified", async () => {
    const layout = await createLayout(await tempDirectory());
    const stream = new PassThrough();
    const image = appendLayers(randomImage({ layers: 0, seed: "slow" }), [
      controlledLayer(big, () => stream),
    ]);
    const append = layout.appendImage(image, { refName: "slow" });
    stream.write(big.subarray(0, 100_000));
    const sizes = async () =>
      Promise.all(
        (await temporaryFiles(layout)).map(
          async (name) => (await stat(join(layout.path, name))).size,
        ),
      );
    const config = (await image.manifest()).config;
    // The layer partly written; the config and manifest staged beside it, whole.
    await waitFor(async () => {
      const found = await sizes();
      return found.includes(100_000) && found.includes(config.size) && found.length === 3;
    }, "the partial layer and the staged config and manifest");
    expect(await layout.hasBlob(bigDigest)).toBe(false);
    expect(await layout.hasBlob(config.digest)).toBe(false);
    expect(await layout.hasBlob(await image.digest())).toBe(false);
    expect((await layout.indexManifest()).manifests).toEqual([]);
    stream.end(big.subarray(100_000));
    await append;
    expect(await layout.hasBlob(bigDigest, { verify: true })).toBe(true);
    expect(await layout.hasBlob(config.digest, { verify: true })).toBe(true);
    expect(await layout.hasBlob(await image.digest(), { verify: true })).toBe(true);
    expect(await temporaryFiles(layout)).toEqual([]);
  });

  it("names a manifest only after its own layers, when its config landed with another image", async () => {
    const layout = await createLayout(await tempDirectory());
    const slow = new PassThrough();
    const late = appendLayers(randomImage({ layers: 0, seed: "late" }), [
      controlledLayer(big, () => slow),
    ]);
    // Another image whose layer has exactly the bytes of the first image's config.
    const configBytes = await late.rawConfigFile();
    const early = appendLayers(randomImage({ layers: 0, seed: "early" }), [
      controlledLayer(configBytes, () => Readable.from([configBytes])),
    ]);
    const append = layout.appendIndex(appendManifests(emptyIndex(), [early, late]));
    slow.write(big.subarray(0, 10_000));
    const configDigest = (await late.manifest()).config.digest;
    await waitFor(() => layout.hasBlob(configDigest), "the shared blob");
    const earlyDigest = await early.digest();
    await waitFor(() => layout.hasBlob(earlyDigest), "the other image's manifest");
    expect(await layout.hasBlob(bigDigest)).toBe(false);
    expect(await layout.hasBlob(await late.digest())).toBe(false);
    slow.end(big.subarray(10_000));
    await append;
    expect(await layout.hasBlob(await late.digest(), { verify: true })).toBe(true);
  });

  it("cleans up after an abort and rejects with the abort reason", async () => {
    const layout = await createLayout(await tempDirectory());
    const before = await snapshot(layout.path);
    const stream = new PassThrough();
    const image = appendLayers(randomImage({ layers: 1, seed: "abort" }), [
      controlledLayer(big, () => stream),
    ]);
    const controller = new AbortController();
    const append = layout.appendImage(image, { refName: "abort", signal: controller.signal });
    stream.write(big.subarray(0, 50_000));
    await waitFor(async () => (await temporaryFiles(layout)).length > 0, "a temporary file");
    const reason = new Error("user pressed Ctrl-C");
    controller.abort(reason);
    await expect(append).rejects.toBe(reason);
    expect(await temporaryFiles(layout)).toEqual([]);
    expect(await layout.hasBlob(bigDigest)).toBe(false);
    const after = await snapshot(layout.path);
    expect(after["index.json"]).toBe(before["index.json"]);
    // An already aborted signal writes nothing at all.
    await expect(
      layout.appendImage(randomImage({ seed: "never" }), { signal: controller.signal }),
    ).rejects.toBe(reason);
    await expect(openLayout(layout.path, { signal: controller.signal })).rejects.toBe(reason);
    expect(await snapshot(layout.path)).toEqual(after);
  });

  it("stops the other writes of an operation when one fails, leaving no temporary file", async () => {
    const layout = await createLayout(await tempDirectory());
    const before = await snapshot(layout.path);
    const slow = new PassThrough();
    const broken = new PassThrough();
    const other = Buffer.alloc(4096, 1);
    const image = appendLayers(randomImage({ layers: 0, seed: "fail" }), [
      controlledLayer(big, () => slow),
      controlledLayer(other, () => broken),
    ]);
    const append = layout.appendImage(image);
    slow.write(big.subarray(0, 10_000));
    broken.write(other.subarray(0, 100));
    // Both layers, and the config and manifest staged beside them.
    await waitFor(async () => (await temporaryFiles(layout)).length === 4, "four temporary files");
    const failure = new Error("connection reset by peer");
    broken.destroy(failure);
    await expect(append).rejects.toBe(failure);
    expect(slow.destroyed).toBe(true);
    expect(await temporaryFiles(layout)).toEqual([]);
    expect(await snapshot(layout.path)).toEqual(before);
  });

  it("aborts reads", async () => {
    const layout = await createLayout(await tempDirectory());
    const { digest } = await layout.writeBlob(big);
    const controller = new AbortController();
    const stream = await layout.blob(digest, { signal: controller.signal });
    const reason = new Error("enough");
    controller.abort(reason);
    await expect(buffer(stream)).rejects.toBe(reason);
    await expect(layout.blobBytes(digest, { signal: controller.signal })).rejects.toBe(reason);
    await expect(layout.image("x", { signal: controller.signal })).rejects.toBe(reason);
    await expect(layout.garbageCollect({ signal: controller.signal })).rejects.toBe(reason);
    await expect(
      layout.writeBlob(Readable.from([big]), { signal: controller.signal }),
    ).rejects.toBe(reason);
  });

  it("leaves no partial blob when the writing process is killed", async () => {
    const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");
    if (!existsSync(dist)) {
      throw new Error(
        `${dist} is missing: build @hoist/layout first (pnpm turbo run build --filter=@hoist/layout)`,
      );
    }
    const layout = await createLayout(await tempDirectory());
    const indexBefore = await readFile(join(layout.path, "index.json"));
    // The child starts a write whose source never ends, says so, and waits to be killed.
    const script = `
      const [distUrl, root, digest, size] = process.argv.slice(1);
      const { openLayout } = await import(distUrl);
      const { PassThrough } = await import("node:stream");
      const layout = await openLayout(root);
      const stream = new PassThrough();
      stream.write(Buffer.alloc(100000, 0x5a));
      layout.writeBlob(stream, { digest, size: Number(size) });
      process.stdout.write("writing\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        script,
        pathToFileURL(dist).href,
        layout.path,
        String(bigDigest),
        String(big.length),
      ],
      { cwd: dirname(dist), stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await waitFor(async () => {
      const [temp] = await temporaryFiles(layout);
      return temp !== undefined && (await stat(join(layout.path, temp))).size === 100_000;
    }, "the child's partial write");
    child.kill("SIGKILL");
    await exited;

    expect(await layout.hasBlob(bigDigest)).toBe(false);
    expect(await readFile(join(layout.path, "index.json"))).toEqual(indexBefore);
    const reopened = await openLayout(layout.path);
    const leftovers = await temporaryFiles(reopened);
    expect(leftovers).toHaveLength(1);
    // A later write of the same blob succeeds, and garbage collection clears the leftover.
    await reopened.writeBlob(big, { digest: bigDigest });
    expect(await reopened.hasBlob(bigDigest, { verify: true })).toBe(true);
    const collected = await reopened.garbageCollect();
    expect(collected.removedTemporaryFiles).toEqual(leftovers);
    expect(await temporaryFiles(reopened)).toEqual([]);
  });
});
