import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isValidTag, repositoryNameProblem } from "./names.js";

describe("repository names", () => {
  it.each([
    "a",
    "library/ubuntu",
    "a/b/c",
    "a.b",
    "a_b",
    "a__b",
    "a-b",
    "a---b",
    "0",
    "x".repeat(255),
  ])("accepts %s", (name) => {
    expect(repositoryNameProblem(name)).toBeUndefined();
  });

  it.each([
    ["", "empty"],
    ["A", '"A"'],
    ["a//b", '""'],
    ["/a", '""'],
    ["a/", '""'],
    ["-a", '"-a"'],
    ["a-", '"a-"'],
    ["a___b", '"a___b"'],
    ["a..b", '"a..b"'],
    [".", '"."'],
    ["a/../b", '".."'],
    ["_x", '"_x"'],
    ["a:b", '":"'],
    ["x".repeat(256), "256 characters"],
  ])("refuses %s, saying why", (name, why) => {
    expect(repositoryNameProblem(name)).toContain(why);
  });

  it("never accepts a name with an empty, dot or dot-dot component (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b1", "", ".", "..", "c-d"), { minLength: 1, maxLength: 5 }),
        (parts) => {
          const name = parts.join("/");
          const bad = parts.some((p) => p === "" || p === "." || p === "..");
          if (bad) expect(repositoryNameProblem(name)).toBeDefined();
          else expect(repositoryNameProblem(name)).toBeUndefined();
        },
      ),
    );
  });
});

describe("tags", () => {
  it.each(["latest", "v1.2.3", "_x", "A-b_c.d", "x".repeat(128)])("accepts %s", (tag) => {
    expect(isValidTag(tag)).toBe(true);
  });

  it.each(["", ".x", "-x", "a$b", "a/b", "a:b", "x".repeat(129)])("refuses %s", (tag) => {
    expect(isValidTag(tag)).toBe(false);
  });

  it("agrees with the spec's regular expression (property)", () => {
    const spec = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._$/:-]{0,130}$/), (tag) => {
        expect(isValidTag(tag)).toBe(spec.test(tag));
      }),
    );
  });
});
