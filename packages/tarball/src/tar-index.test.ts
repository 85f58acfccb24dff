import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { pack } from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSafeEntryName } from "./entry-path.js";
import { TarballError } from "./errors.js";
import { decodeHeader, parseNumeric, parsePaxRecords } from "./tar-header.js";
import { TarIndex } from "./tar-index.js";

const run = promisify(execFile);

let directory: string;
let counter = 0;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "hoist-tar-index-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function writeTemp(bytes: Uint8Array): Promise<string> {
  const path = join(directory, `archive-${++counter}.tar`);
  await writeFile(path, bytes);
  return path;
}

interface Spec {
  name: string;
  type: "file" | "directory" | "symlink" | "link";
  content: Uint8Array;
  linkname?: string;
}

async function packed(entries: Spec[]): Promise<Buffer> {
  const archive = pack();
  for (const entry of entries) {
    archive.entry(
      {
        name: entry.name,
        type: entry.type,
        linkname: entry.linkname,
        mtime: new Date(0),
      },
      Buffer.from(entry.content),
    );
  }
  archive.finalize();
  const chunks: Uint8Array[] = [];
  for await (const chunk of archive as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<TarballError> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    expect(TarballError.is(error), String(error)).toBe(true);
    return error as TarballError;
  }
  throw new Error("expected a TarballError");
}

async function contentOf(index: TarIndex, name: string): Promise<Buffer> {
  const location = index.locate(name, "test");
  const bytes = await readFile(index.path);
  return bytes.subarray(location.offset, location.offset + location.size);
}

describe("header fields", () => {
  it.each([
    ["0000644\0", 0o644],
    ["   644 ", 0o644],
    ["00000000000\0", 0],
    ["17777777777\0", 0o17777777777],
  ])("reads octal %j", (text, value) => {
    expect(parseNumeric(Buffer.from(text, "latin1"))).toBe(value);
  });

  it("reads GNU base-256 sizes beyond 8 GiB and refuses negative ones", () => {
    const field = Buffer.alloc(12);
    field[0] = 0x80;
    field.writeUIntBE(10 * 1024 ** 3, 6, 6);
    expect(parseNumeric(field)).toBe(10 * 1024 ** 3);
    expect(parseNumeric(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBeUndefined();
  });

  it("refuses digits out of octal and text after the number", () => {
    expect(parseNumeric(Buffer.from("0000844\0"))).toBeUndefined();
    expect(parseNumeric(Buffer.from("12 34\0"))).toBeUndefined();
  });

  it("refuses a block whose checksum is wrong", async () => {
    const archive = await packed([{ name: "a", type: "file", content: Buffer.from("x") }]);
    const block = Buffer.from(archive.subarray(0, 512));
    block[0] = "b".charCodeAt(0);
    const error = await failure(() => decodeHeader(block, "test"));
    expect(error.code).toBe("HOIST_TARBALL_INVALID_ARCHIVE");
  });

  it("parses pax records and refuses malformed ones", async () => {
    const records = parsePaxRecords(Buffer.from("20 path=some/file.x\n13 size=1234\n"), "test");
    expect(Object.fromEntries(records)).toEqual({ path: "some/file.x", size: "1234" });
    for (const bad of ["99 path=x\n", "6 =ab\n", "x path=a\n", "12 pathnoeq\n"]) {
      const error = await failure(() => parsePaxRecords(Buffer.from(bad), "test"));
      expect(error.code).toBe("HOIST_TARBALL_INVALID_ARCHIVE");
    }
  });
});

describe("TarIndex", () => {
  it("indexes files, directories and links and follows links with cycle detection", async () => {
    const path = await writeTemp(
      await packed([
        { name: "dir/", type: "directory", content: new Uint8Array() },
        { name: "dir/file.txt", type: "file", content: Buffer.from("hello") },
        { name: "sym", type: "symlink", content: new Uint8Array(), linkname: "dir/file.txt" },
        { name: "dir/up", type: "symlink", content: new Uint8Array(), linkname: "../sym" },
        { name: "hard", type: "link", content: new Uint8Array(), linkname: "dir/file.txt" },
        { name: "loop-a", type: "symlink", content: new Uint8Array(), linkname: "loop-b" },
        { name: "loop-b", type: "symlink", content: new Uint8Array(), linkname: "loop-a" },
        {
          name: "escape",
          type: "symlink",
          content: new Uint8Array(),
          linkname: "../../etc/passwd",
        },
        { name: "absolute", type: "symlink", content: new Uint8Array(), linkname: "/etc/passwd" },
      ]),
    );
    const index = await TarIndex.open(path, { operation: "test" });
    expect(index.entries().map((entry) => [entry.name, entry.kind])).toEqual([
      ["dir", "directory"],
      ["dir/file.txt", "file"],
      ["sym", "symlink"],
      ["dir/up", "symlink"],
      ["hard", "link"],
      ["loop-a", "symlink"],
      ["loop-b", "symlink"],
      ["escape", "symlink"],
      ["absolute", "symlink"],
    ]);
    for (const name of ["dir/file.txt", "./dir/file.txt", "sym", "dir/up", "hard"]) {
      expect((await contentOf(index, name)).toString()).toBe("hello");
      expect(index.locate(name, "test").resolved).toBe("dir/file.txt");
    }
    expect((await failure(() => index.locate("loop-a", "test"))).code).toBe(
      "HOIST_TARBALL_LINK_CYCLE",
    );
    expect((await failure(() => index.locate("escape", "test"))).code).toBe(
      "HOIST_TARBALL_UNSAFE_PATH",
    );
    expect((await failure(() => index.locate("absolute", "test"))).code).toBe(
      "HOIST_TARBALL_UNSAFE_PATH",
    );
    expect((await failure(() => index.locate("../dir/file.txt", "test"))).code).toBe(
      "HOIST_TARBALL_UNSAFE_PATH",
    );
    expect((await failure(() => index.locate("missing", "test"))).code).toBe(
      "HOIST_TARBALL_MISSING_ENTRY",
    );
    expect((await failure(() => index.locate("dir", "test"))).code).toBe(
      "HOIST_TARBALL_INVALID_ARCHIVE",
    );
  });

  it("gives up on link chains longer than Linux follows", async () => {
    const entries: Spec[] = [{ name: "target", type: "file", content: Buffer.from("t") }];
    for (let hop = 0; hop < 45; hop++) {
      entries.push({
        name: `l${hop}`,
        type: "symlink",
        content: new Uint8Array(),
        linkname: hop === 0 ? "target" : `l${hop - 1}`,
      });
    }
    const index = await TarIndex.open(await writeTemp(await packed(entries)), { operation: "t" });
    expect(index.locate("l30", "t").resolved).toBe("target");
    expect((await failure(() => index.locate("l44", "t"))).code).toBe("HOIST_TARBALL_LINK_CYCLE");
  });

  it("lets a later member replace an earlier one of the same name, as extraction does", async () => {
    const path = await writeTemp(
      await packed([
        { name: "a", type: "file", content: Buffer.from("first") },
        { name: "./a", type: "file", content: Buffer.from("second") },
      ]),
    );
    const index = await TarIndex.open(path, { operation: "t" });
    expect((await contentOf(index, "a")).toString()).toBe("second");
  });

  it("reads what GNU tar writes in gnu, posix (pax) and ustar formats, long names included", async () => {
    const source = join(directory, `gnu-source-${++counter}`);
    const long = `${"deep/".repeat(30)}${"n".repeat(120)}.txt`;
    await mkdir(join(source, ...long.split("/").slice(0, -1)), { recursive: true });
    await writeFile(join(source, long), "long one");
    await writeFile(join(source, "short.txt"), "short");
    await writeFile(join(source, "ünïcødé.txt"), "unicode");
    await symlink(`${"l".repeat(150)}`, join(source, "dangling-long-link"));
    for (const format of ["gnu", "posix", "ustar"]) {
      const archive = join(directory, `gnu-${format}-${++counter}.tar`);
      const files = format === "ustar" ? ["short.txt", "ünïcødé.txt"] : ["."];
      await run("tar", [`--format=${format}`, "-cf", archive, "-C", source, ...files]);
      const index = await TarIndex.open(archive, { operation: "t" });
      expect((await contentOf(index, "short.txt")).toString()).toBe("short");
      expect((await contentOf(index, "ünïcødé.txt")).toString()).toBe("unicode");
      if (format !== "ustar") {
        expect((await contentOf(index, long)).toString()).toBe("long one");
        expect(index.entry("dangling-long-link")?.linkname).toBe("l".repeat(150));
      }
    }
  });

  it("refuses what is not a tar and names a truncated one", async () => {
    const garbage = await writeTemp(Buffer.from("this is not a tar archive at all".repeat(40)));
    expect((await failure(TarIndex.open(garbage, { operation: "t" }))).code).toBe(
      "HOIST_TARBALL_INVALID_ARCHIVE",
    );
    const archive = await packed([{ name: "a", type: "file", content: Buffer.alloc(2000, 1) }]);
    const cut = await writeTemp(archive.subarray(0, 1000));
    const error = await failure(TarIndex.open(cut, { operation: "t" }));
    expect(error.code).toBe("HOIST_TARBALL_TRUNCATED");
    expect(error.message).toContain(cut);
    const missing = await failure(TarIndex.open(join(directory, "nope.tar"), { operation: "t" }));
    expect(missing.code).toBe("HOIST_TARBALL_READ_FAILED");
  });

  it("stops when aborted", async () => {
    const path = await writeTemp(
      await packed([{ name: "a", type: "file", content: Buffer.from("x") }]),
    );
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(
      TarIndex.open(path, { operation: "t", signal: controller.signal }),
    ).rejects.toThrow("stop");
  });
});

// Entries as tar-stream writes them: ustar with the prefix field, and pax for long or non-ASCII
// names.
const entryName = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9._-]{1,20}$/),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }),
      fc.constant("x".repeat(90)),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((parts) => parts.join("/"))
  .filter(
    (name) =>
      !name.includes("\0") &&
      name.split("/").every((p) => p !== "." && p !== ".." && p !== "") &&
      !name.includes("\n") &&
      // Names the index refuses on purpose (a leading backslash or drive reads as a Windows
      // absolute path) have their own tests in entry-path.test.ts.
      isSafeEntryName(name),
  );
const entries = fc.uniqueArray(
  fc.record({
    name: entryName,
    content: fc.uint8Array({ maxLength: 1500 }),
  }),
  { selector: (entry) => entry.name, minLength: 1, maxLength: 8 },
);

describe("properties", () => {
  it("finds every entry tar-stream writes, at the offset that holds its bytes", async () => {
    await fc.assert(
      fc.asyncProperty(entries, async (list) => {
        const archive = await packed(list.map((entry) => ({ ...entry, type: "file" })));
        const index = await TarIndex.open(await writeTemp(archive), { operation: "t" });
        for (const entry of list) {
          const location = index.locate(entry.name, "t");
          expect(location.size).toBe(entry.content.length);
          expect(
            Buffer.compare(
              archive.subarray(location.offset, location.offset + location.size),
              Buffer.from(entry.content),
            ),
          ).toBe(0);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("a cut archive is refused as truncated or read as the entries it still holds whole", async () => {
    await fc.assert(
      fc.asyncProperty(entries, fc.double({ min: 0, max: 1, noNaN: true }), async (list, at) => {
        const archive = await packed(list.map((entry) => ({ ...entry, type: "file" })));
        const full = await TarIndex.open(await writeTemp(archive), { operation: "t" });
        const cut = Math.floor(archive.length * at);
        const path = await writeTemp(archive.subarray(0, cut));
        let index: TarIndex;
        try {
          index = await TarIndex.open(path, { operation: "t" });
        } catch (error) {
          expect(TarballError.is(error)).toBe(true);
          expect(["HOIST_TARBALL_TRUNCATED"]).toContain((error as TarballError).code);
          return;
        }
        for (const entry of index.entries()) {
          const original = full.entry(entry.name);
          expect(original).toBeDefined();
          expect(entry.offset + entry.size).toBeLessThanOrEqual(cut);
          expect(entry.offset).toBe(original?.offset);
        }
      }),
      { numRuns: 60 },
    );
  });
});
