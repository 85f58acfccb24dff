import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Hash } from "@hoist/oci";
import { describe, expect, it } from "vitest";
import { createLayout } from "../src/index.js";
import { useTempDirectories } from "./helpers.js";

const tempDir = useTempDirectories("chunked");

describe("writing a blob that arrives in many chunks", () => {
  it("keeps every byte in order while earlier writes are still under way", async () => {
    // 3 MiB in chunks of odd sizes: most arrive while the file is busy and are written together.
    const chunks = Array.from({ length: 700 }, (_, i) => randomBytes(1000 + ((i * 7919) % 8000)));
    const whole = Buffer.concat(chunks);
    const digest = Hash.parse(`sha256:${createHash("sha256").update(whole).digest("hex")}`);
    const layout = await createLayout(await tempDir());
    const progress: number[] = [];
    const result = await layout.writeBlob(Readable.from(chunks), {
      digest,
      size: whole.length,
      onProgress: ({ writtenBytes }) => progress.push(writtenBytes),
    });
    expect(result).toMatchObject({ size: whole.length, written: true });
    expect(await readFile(join(layout.path, "blobs", "sha256", digest.hex))).toEqual(whole);
    expect(progress.at(-1)).toBe(whole.length);
  });
});
