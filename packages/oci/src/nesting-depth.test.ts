import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { depthPastLimit } from "./nesting-depth.js";

/** Bracket depth outside strings by its plain definition: what depthPastLimit must agree with. */
function depth(text: string): number {
  let current = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (inString) {
      if (character === "\\") index++;
      else if (character === '"') inString = false;
    } else if (character === '"') {
      inString = true;
    } else if (character === "[" || character === "{") {
      deepest = Math.max(deepest, ++current);
    } else if (character === "]" || character === "}") {
      current--;
    }
  }
  return deepest;
}

/** The depth JSON.parse sees in a parsed value. */
function jsonDepth(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(jsonDepth));
}

describe("depthPastLimit", () => {
  it("counts brackets outside strings only", () => {
    expect(depthPastLimit("", 0)).toBeUndefined();
    expect(depthPastLimit('{"a":[1,{"b":[]}]}', 3)).toBe(4);
    expect(depthPastLimit('{"a":[1,{"b":[]}]}', 4)).toBeUndefined();
    expect(depthPastLimit('{"[[[[":"]]]]{{"}', 1)).toBeUndefined();
    expect(depthPastLimit('["\\"[[[", "\\\\", [[]]]', 2)).toBe(3);
    expect(depthPastLimit('["\\\\\\"]"]', 0)).toBe(1);
  });

  it("stops just past the limit, and reads no further than an unterminated string", () => {
    expect(depthPastLimit("[".repeat(500_000), 128)).toBe(129);
    expect(depthPastLimit(`[[${'"'}${"[".repeat(200)}`, 128)).toBeUndefined();
    expect(depthPastLimit(`${"[]".repeat(300)}[[[`, 2)).toBe(3);
  });

  it("agrees with the plain definition on any text", () => {
    const structural = fc.constantFrom("[", "]", "{", "}", '"', "\\", "a", " ");
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: structural }),
          fc.string({ unit: structural, maxLength: 400 }),
        ),
        fc.integer({ min: 0, max: 12 }),
        (text, limit) => {
          const expected = depth(text);
          expect(depthPastLimit(text, limit)).toBe(expected > limit ? limit + 1 : undefined);
        },
      ),
    );
  });

  it("finds exactly the depth JSON.parse sees in any JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        const deepest = jsonDepth(value);
        expect(depthPastLimit(text, deepest)).toBeUndefined();
        if (deepest > 0) expect(depthPastLimit(text, deepest - 1)).toBe(deepest);
      }),
    );
  });
});
