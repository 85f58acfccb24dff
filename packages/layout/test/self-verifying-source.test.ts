import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline, Readable } from "node:stream";
import { Hash, VerifyingStream } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { createLayout } from "../src/index.js";
import { layoutFailure, ociFailure, useTempDirectories } from "./helpers.js";

const tempDir = useTempDirectories("self-verifying");

const bytes = Buffer.from("a layer's bytes, as a registry serves them");
const digest = Hash.parse(`sha256:${createHash("sha256").update(bytes).digest("hex")}`);

/** What @hoist/remote hands out for a registry blob: its bytes through a verifier. */
function verified(content: Buffer, options: { digest: Hash; size?: number }): VerifyingStream {
  const verifier = new VerifyingStream({ ...options, operation: "read layer" });
  return pipeline(Readable.from([content]), verifier, () => {}) as VerifyingStream;
}

async function blobNames(root: string): Promise<string[]> {
  return readdir(join(root, "blobs", "sha256")).catch(() => []);
}

describe("writing a blob from a source that verifies itself", () => {
  it("stores it when the bytes are right", async () => {
    const layout = await createLayout(await tempDir());
    const result = await layout.writeBlob(verified(bytes, { digest, size: bytes.length }), {
      digest,
      size: bytes.length,
    });
    expect(result).toMatchObject({ digest, size: bytes.length, written: true });
    expect(await readFile(join(layout.path, "blobs", "sha256", digest.hex))).toEqual(bytes);
  });

  it("fails and keeps nothing when the bytes are not what the source verifies against", async () => {
    const layout = await createLayout(await tempDir());
    const tampered = Buffer.from(bytes);
    tampered[0] = 0x41;
    await ociFailure(
      layout.writeBlob(verified(tampered, { digest, size: bytes.length }), {
        digest,
        size: bytes.length,
      }),
      "HOIST_OCI_DIGEST_MISMATCH",
    );
    expect(await blobNames(layout.path)).toEqual([]);
    expect((await readdir(layout.path)).filter((name) => name.includes("tmp"))).toEqual([]);
  });

  it("verifies again when the source checks another digest or size than the one asked for", async () => {
    const layout = await createLayout(await tempDir());
    const other = Buffer.from("other bytes");
    const otherDigest = Hash.parse(`sha256:${createHash("sha256").update(other).digest("hex")}`);
    // The source is honest about its own digest, but it is not the blob the caller asked for.
    await ociFailure(
      layout.writeBlob(verified(other, { digest: otherDigest }), { digest, size: bytes.length }),
      "HOIST_OCI_SIZE_MISMATCH",
    );
    await ociFailure(
      layout.writeBlob(verified(bytes, { digest }), { digest: otherDigest, size: bytes.length }),
      "HOIST_OCI_DIGEST_MISMATCH",
    );
    expect(await blobNames(layout.path)).toEqual([]);
  });

  it("fails as a write failure and keeps nothing when the blob's name is taken by a directory", async () => {
    const layout = await createLayout(await tempDir());
    await mkdir(join(layout.path, "blobs", "sha256", digest.hex, "child"), { recursive: true });
    const failure = await layoutFailure(
      layout.writeBlob(verified(bytes, { digest, size: bytes.length }), {
        digest,
        size: bytes.length,
      }),
      "HOIST_LAYOUT_WRITE_FAILED",
    );
    expect(failure.cause).toBeDefined();
    expect(failure.message).toContain(digest.hex);
    expect((await readdir(layout.path)).filter((name) => name.startsWith(".hoist-tmp-"))).toEqual(
      [],
    );
  });
});
