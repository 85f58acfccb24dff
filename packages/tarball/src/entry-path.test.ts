import { posix, resolve, sep } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ancestorsOf,
  cleanPath,
  isSafeEntryName,
  parentOf,
  safeEntryName,
  symlinkTarget,
} from "./entry-path.js";
import { TarballError } from "./errors.js";

describe("cleanPath", () => {
  it.each([
    ["a/b", "a/b"],
    ["./a/b/", "a/b"],
    ["a//b/./c/", "a/b/c"],
    ["a/b/../c", "a/c"],
    ["./", "."],
    ["", "."],
    [".", "."],
    ["../a", "../a"],
    ["a/../../b", "../b"],
  ])("%j cleans to %j", (input, expected) => {
    expect(cleanPath(input)).toBe(expected);
  });
});

describe("safeEntryName", () => {
  it.each([
    ["usr/bin/env", "usr/bin/env"],
    ["./usr/bin/", "usr/bin"],
    ["a/../b", "b"],
    ["./", "."],
    ["weird\\name", "weird\\name"],
  ])("accepts %j as %j", (input, expected) => {
    expect(safeEntryName(input, "test")).toBe(expected);
  });

  it.each([
    ["../x", "climbs above the root"],
    ["a/../../x", "climbs above the root"],
    ["..", "climbs above the root"],
    ["/etc/passwd", "is absolute"],
    ["//etc", "is absolute"],
    ["\\windows\\x", "Windows absolute path"],
    ["C:\\x", "Windows absolute path"],
    ["c:x", "Windows absolute path"],
    ["a\\..\\..\\x", "climbs above the root"],
    // Inside either way as given, but cleaned to "a/..\..", which climbs on Windows (found by
    // the property below).
    ["a/ \\ /../..\\..", "climbs above the root with .. once cleaned"],
    ["a\0b", "NUL byte"],
  ])("refuses %j (%s)", (input, problem) => {
    let error: unknown;
    try {
      safeEntryName(input, "test");
    } catch (caught) {
      error = caught;
    }
    expect(TarballError.is(error)).toBe(true);
    expect((error as TarballError).code).toBe("HOIST_TARBALL_UNSAFE_PATH");
    expect((error as TarballError).message).toContain(problem);
    expect((error as TarballError).message).toContain(JSON.stringify(input));
  });
});

describe("symlinkTarget", () => {
  it.each([
    ["usr/lib/libc.so", "libc.so.6", "usr/lib/libc.so.6"],
    ["usr/lib/x", "../../bin/sh", "bin/sh"],
    ["a", "/etc/passwd", "/etc/passwd"],
    ["a/b", "..", "."],
    ["a", "../x", undefined],
    ["a/b", "../../../etc", undefined],
    ["a/b", "..\\..\\x", undefined],
  ])("%j -> %j resolves to %j", (entry, target, expected) => {
    expect(symlinkTarget(entry, target)).toBe(expected);
  });
});

describe("ancestors and parents", () => {
  it("lists ancestors nearest first, without the root", () => {
    expect([...ancestorsOf("a/b/c")]).toEqual(["a/b", "a"]);
    expect([...ancestorsOf("a")]).toEqual([]);
    expect(parentOf("a/b")).toBe("a");
    expect(parentOf("a")).toBe(".");
  });
});

// Names made of segments that matter to path resolution, plus ordinary ones.
const segment = fc.oneof(
  fc.constantFrom("..", ".", "", "a", "b", "..a", ".wh.x", "C:", "\\", "..\\.."),
  fc.string({ minLength: 1, maxLength: 4 }),
);
const name = fc
  .tuple(fc.boolean(), fc.array(segment, { maxLength: 8 }))
  .map(([absolute, parts]) => `${absolute ? "/" : ""}${parts.join("/")}`);

describe("properties", () => {
  it("a name accepted as safe stays inside any root it is joined to", () => {
    const root = resolve("/srv/extract");
    fc.assert(
      fc.property(name, (input) => {
        if (!isSafeEntryName(input)) return;
        const cleaned = safeEntryName(input, "test");
        const joined = resolve(root, cleaned);
        expect(joined === root || joined.startsWith(`${root}${sep}`)).toBe(true);
        // Also when the host reads backslashes as separators.
        const windows = posix.normalize(`${root}/${cleaned.replaceAll("\\", "/")}`);
        expect(windows === root || windows.startsWith(`${root}/`)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("cleaning is idempotent and leaves no empty, '.' or inner '..' segments", () => {
    fc.assert(
      fc.property(name, (input) => {
        const cleaned = cleanPath(input.replace(/^\/+/, ""));
        expect(cleanPath(cleaned)).toBe(cleaned);
        if (cleaned === ".") return;
        const parts = cleaned.split("/");
        const firstReal = parts.findIndex((part) => part !== "..");
        for (const [index, part] of parts.entries()) {
          expect(part).not.toBe("");
          expect(part).not.toBe(".");
          if (firstReal !== -1 && index >= firstReal) expect(part).not.toBe("..");
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with Node's posix resolution for names without NUL or backslashes", () => {
    fc.assert(
      fc.property(name, (input) => {
        if (input.includes("\\") || input.includes("\0") || /^[A-Za-z]:/.test(input)) return;
        const viaNode = posix.relative("/r", posix.resolve("/r", input.replace(/^\/+/, "")));
        const escapes = viaNode.startsWith("..");
        if (input.startsWith("/")) {
          expect(isSafeEntryName(input)).toBe(false);
          return;
        }
        // posix.resolve clamps ".." at "/" while tar members are relative: compare only
        // names that Node keeps inside, which must be accepted and clean to the same path.
        if (!escapes && isSafeEntryName(input)) {
          expect(cleanPath(input)).toBe(viaNode === "" ? "." : viaNode);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a symlink target either stays inside or is refused", () => {
    fc.assert(
      fc.property(name, name, (entry, target) => {
        if (!isSafeEntryName(entry)) return;
        const resolved = symlinkTarget(cleanPath(entry), target);
        if (resolved === undefined || resolved.startsWith("/")) return;
        expect(resolved === ".." || resolved.startsWith("../")).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
